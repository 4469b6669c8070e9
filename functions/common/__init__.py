"""Code shared by every Lambda function of the pipeline (bundled into each deployment zip).

Keep this package dependency-light: standard library and pydantic only.
"""
