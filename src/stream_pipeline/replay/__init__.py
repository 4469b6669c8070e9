"""Replay the dead-letter queue, and the objects of an S3 on-failure destination, into the
stream(s) the records came from (``stream-pipeline replay``; manual: docs/replay.md).

- ``model``: the items, the plan, the run's options and report;
- ``sqs``: the DLQ as a source (and its statistics);
- ``replayer``: plan, PutRecords, delete once every record of an item was accepted;
- ``bucket``: the failure bucket as a source (extends ``replayer``);
- ``render``: the tables (rich);
- ``cli``: the command line.
"""
