"""The retail sample data generator (``stream-pipeline produce``; manual: docs/producer.md).

- ``generator``: realistic retail events and poison records (:func:`generate_records`);
- ``sender``: PutRecords with batching, rate, retries, and a report (:func:`produce`);
- ``cli``: the command line.
"""
