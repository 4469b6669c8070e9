"""boto3 clients whose HTTP layer answers canned 200 responses: no network, no moto.

A ``before-send`` handler (botocore's last step before the HTTP request goes out) returns the
response. Everything before it runs for real -- parameter validation, serialisation,
SigV4 signing, the retry and event machinery -- and botocore parses the canned body, so a
measurement includes the client-side cost of every request but no network or server time.
The handler also counts requests by API (``dynamodb.BatchWriteItem`` ...) and items, and can
wait a fixed round trip per request (``round_trip_ms``) as a stand-in for network and service
time. It is thread-safe: the functions send a batch's requests from several threads.
"""

from __future__ import annotations

import json
import threading
import time
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
    BatchWriteItem plus PutItem calls; ``messages_sent``: SQS messages; ``max_in_flight``: the
    most requests answered at the same time. ``round_trip_ms``: how long every request waits
    for its answer (0: answered at once, for CPU measurements).
    """

    def __init__(self, round_trip_ms: float = 0.0) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 -- a dummy, nothing is sent
            region_name=REGION,
        )
        self.counts: Counter[str] = Counter()
        self.items_written = 0
        self.messages_sent = 0
        self.unexpected: Counter[str] = Counter()
        self.round_trip_ms = round_trip_ms
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._request = threading.local()
        """The SendMessageBatch entry ids of the request this thread is sending."""

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.unexpected.clear()
            self.items_written = 0
            self.messages_sent = 0
            self.max_in_flight = 0

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
        self._request.entry_ids = [str(entry["Id"]) for entry in params.get("Entries", [])]

    def _count_items(self, params: dict[str, Any], **_: Any) -> None:
        items = sum(len(requests) for requests in params["RequestItems"].values())
        with self._lock:
            self.items_written += items

    def _answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        service, operation = event_name.split(".", 2)[1:]
        api = f"{service}.{operation}"
        headers: dict[str, str] = JSON_HEADERS
        body: bytes
        with self._lock:
            self.counts[api] += 1
            if api == "dynamodb.PutItem":
                self.items_written += 1
            elif api == "sqs.SendMessageBatch":
                self.messages_sent += len(self._request.entry_ids)
            elif api == "sqs.SendMessage":
                self.messages_sent += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        if api == "dynamodb.BatchWriteItem":
            body = b'{"UnprocessedItems":{}}'
        elif api == "dynamodb.PutItem":
            body = b"{}"
        elif api == "sqs.SendMessageBatch":
            body = json.dumps(
                {
                    "Successful": [
                        {"Id": entry, "MessageId": f"m-{entry}", "MD5OfMessageBody": FAKE_MD5}
                        for entry in self._request.entry_ids
                    ],
                    "Failed": [],
                }
            ).encode()
        elif api == "sqs.SendMessage":
            body = json.dumps({"MessageId": "m-1", "MD5OfMessageBody": FAKE_MD5}).encode()
        elif api == "cloudwatch.PutMetricData":
            headers, body = CBOR_HEADERS, b""
        else:
            with self._lock:
                self.unexpected[api] += 1
            body = b"{}"
        if self.round_trip_ms:
            time.sleep(self.round_trip_ms / 1000)  # the network and the service, in one wait
        with self._lock:
            self._in_flight -= 1
        return AWSResponse(request.url, 200, headers, _Body(body))
