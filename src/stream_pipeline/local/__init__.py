"""The pipeline on this machine (``stream-pipeline local``, ``stream-pipeline demo``; manual:
docs/local.md and docs/local-runtime.md).

- ``runtime``: the local runtime (moto's server plus the event source mappings, SNS -> Lambda
  deliveries and Lambda execution moto does not run); needs the ``local`` extra (moto);
- ``stack``: the runtime with a checkout's environments/local applied to it by Terraform;
- ``accounting``: every produced record accounted for (results table, DLQ, e-mails);
- ``demo``: produce, drain, account, print.
"""
