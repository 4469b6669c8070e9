"""Two consumers of one stream, as modules/pipeline deploys them with the e-mail notifier: the
processor polling the stream, the notifier reading its own enhanced fan-out consumer with an
event filter on ``data.eventType``.

Each docstring quotes the AWS documentation sentence the test holds the runtime to.
"""

from __future__ import annotations

import json
import re

from local_runtime_harness import Aws, decode

EFO_CONSUMER_ARN = re.compile(
    r"^arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream/[^/]+/consumer/[^/:]+:\d+$"
)


def test_a_filtered_efo_mapping_and_a_polling_mapping_each_get_their_records(aws: Aws) -> None:
    """AWS (invocation-eventfiltering): "Lambda doesn't send events that don't meet the filter
    criteria to your function"; (services-kinesis-parameters): "EventSourceArn ... ARN of the data
    stream or a stream consumer".

    GIVEN a polling mapping on a stream, and a mapping from a second function to an EFO consumer
    of the same stream (ARN with AWS's ``:<timestamp>`` suffix) filtered on
    ``{"data": {"eventType": ["purchase"]}}``
    WHEN views, purchases and a record that is not JSON are put
    THEN the polling function gets every record, the filtered one only the purchases (counted as
    filtered out otherwise), with the stream as eventSourceARN.
    """
    processor = aws.function("processor")
    notifier = aws.function("notifier")
    stream = aws.stream()
    consumer = aws.kinesis.register_stream_consumer(StreamARN=stream, ConsumerName="notifier")
    consumer_arn = consumer["Consumer"]["ConsumerARN"]
    assert EFO_CONSUMER_ARN.match(consumer_arn), consumer_arn
    payloads: list[object] = [
        {"eventId": "e1", "eventType": "view"},
        {"eventId": "e2", "eventType": "purchase"},
        b"not json",
        {"eventId": "e3", "eventType": "add_to_cart"},
        {"eventId": "e4", "eventType": "purchase"},
    ]
    aws.put(stream, payloads)

    polling = aws.mapping(processor, stream)
    purchases = json.dumps({"data": {"eventType": ["purchase"]}})
    filtered = aws.mapping(
        notifier, consumer_arn, FilterCriteria={"Filters": [{"Pattern": purchases}]}
    )
    aws.drain(polling)
    aws.drain(filtered)

    polled = [r for entry in aws.invocations(processor) for r in entry["event"]["Records"]]
    assert len(polled) == len(payloads)
    notified = [r for entry in aws.invocations(notifier) for r in entry["event"]["Records"]]
    assert [decode(r)["eventId"] for r in notified] == ["e2", "e4"]
    assert {r["eventSourceARN"] for r in notified} == {stream}
    assert aws.counters(filtered)["records_filtered_out"] == 3
    assert aws.awslambda.get_event_source_mapping(UUID=filtered)["EventSourceArn"] == consumer_arn
