"""A local AWS runtime for the pipeline: moto's server plus faithful event source mappings,
SNS -> Lambda deliveries and handler workers. ``python -m tools.local_runtime serve``; see
README.md next to this file."""
