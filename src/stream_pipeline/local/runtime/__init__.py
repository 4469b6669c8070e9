"""A local AWS runtime for the pipeline: moto's server plus faithful event source mappings,
SNS -> Lambda deliveries and handler workers. ``python -m stream_pipeline.local.runtime serve``;
see docs/local-runtime.md."""
