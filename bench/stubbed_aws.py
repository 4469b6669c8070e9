"""boto3 clients whose HTTP layer answers canned 200 responses: no network, no moto.

A ``before-send`` handler (botocore's last step before the HTTP request goes out) returns the
response. Everything before it runs for real -- parameter validation, serialisation,
SigV4 signing, the retry and event machinery -- and botocore parses the canned body, so a
measurement includes the client-side cost of every request but no network or server time.
The handler also counts requests by API (``dynamodb.BatchWriteItem`` ...) and items.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import boto3
from botocore.awsrequest import AWSResponse

from bench.common import REGION

JSON_HEADERS: Final = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
CBOR_HEADERS: Final = {
    "Content-Type": "application/cbor",
    "smithy-protocol": "rpc-v2-cbor",
    "x-amzn-RequestId": "bench",
}
FAKE_MD5: Final = "0" * 32


class _Body:
    """The ``raw`` of an :class:`AWSResponse`: botocore reads it with ``stream()``."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class StubbedAws:
    """A session (static dummy credentials, one region) whose clients never leave the process.

    ``counts``: requests by ``service.Operation``; ``items_written``: PutRequests sent in
    BatchWriteItem plus PutItem calls; ``messages_sent``: SQS messages.
    """

    def __init__(self) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 -- a dummy, nothing is sent
            region_name=REGION,
        )
        self.counts: Counter[str] = Counter()
        self.items_written = 0
        self.messages_sent = 0
        self.unexpected: Counter[str] = Counter()
        self._entry_ids: list[str] = []

    def reset(self) -> None:
        self.counts.clear()
        self.unexpected.clear()
        self.items_written = 0
        self.messages_sent = 0

    def client(self, service: str, **options: Any) -> Any:
        client = self.session.client(service, **options)
        self.attach(client)
        return client

    def resource(self, service: str, **options: Any) -> Any:
        resource = self.session.resource(service, **options)
        self.attach(resource.meta.client)
        return resource

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-parameter-build.sqs.SendMessageBatch", self._remember_entries)
        events.register("before-parameter-build.dynamodb.BatchWriteItem", self._count_items)
        events.register("before-send", self._answer)

    # ------------------------------------------------------------------ hooks

    def _remember_entries(self, params: dict[str, Any], **_: Any) -> None:
        self._entry_ids = [str(entry["Id"]) for entry in params.get("Entries", [])]

    def _count_items(self, params: dict[str, Any], **_: Any) -> None:
        self.items_written += sum(len(requests) for requests in params["RequestItems"].values())

    def _answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        service, operation = event_name.split(".", 2)[1:]
        api = f"{service}.{operation}"
        self.counts[api] += 1
        headers: dict[str, str] = JSON_HEADERS
        body: bytes
        if api == "dynamodb.BatchWriteItem":
            body = b'{"UnprocessedItems":{}}'
        elif api == "dynamodb.PutItem":
            self.items_written += 1
            body = b"{}"
        elif api == "sqs.SendMessageBatch":
            self.messages_sent += len(self._entry_ids)
            body = json.dumps(
                {
                    "Successful": [
                        {"Id": entry, "MessageId": f"m-{entry}", "MD5OfMessageBody": FAKE_MD5}
                        for entry in self._entry_ids
                    ],
                    "Failed": [],
                }
            ).encode()
        elif api == "sqs.SendMessage":
            self.messages_sent += 1
            body = json.dumps({"MessageId": "m-1", "MD5OfMessageBody": FAKE_MD5}).encode()
        elif api == "cloudwatch.PutMetricData":
            headers, body = CBOR_HEADERS, b""
        else:
            self.unexpected[api] += 1
            body = b"{}"
        return AWSResponse(request.url, 200, headers, _Body(body))
