"""boto3 clients whose HTTP layer answers canned 200 responses: no network, no moto.

A ``before-send`` handler (botocore's last step before the HTTP request goes out) returns the
response. Everything before it runs for real -- parameter validation, serialisation,
SigV4 signing, the retry and event machinery -- and botocore parses the canned body, so a
measurement includes the client-side cost of every request but no network or server time.
The handler also counts requests by API (``dynamodb.BatchWriteItem`` ...) and items, and can
wait a fixed round trip per request (``round_trip_ms``) as a stand-in for network and service
time. It is thread-safe: the functions send a batch's requests from several threads.

KMS answers what the AWS Encryption SDK needs to encrypt and decrypt field values:
``GenerateDataKey`` returns one random data key per stub (its plaintext and an opaque ciphertext
blob) under the requested key ARN, and ``Decrypt`` gives that data key back for that blob only.
The blob is not a real KMS ciphertext: nothing outside this stub can decrypt it.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import boto3
from botocore.awsrequest import AWSResponse

from bench.common import REGION, environment

JSON_HEADERS: Final = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
CBOR_HEADERS: Final = {
    "Content-Type": "application/cbor",
    "smithy-protocol": "rpc-v2-cbor",
    "x-amzn-RequestId": "bench",
}
KMS_HEADERS: Final = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "bench"}
FAKE_MD5: Final = "0" * 32
DATA_KEY_BYTES: Final = 32
"""The data key length of the Encryption SDK's AES-256 suites (it checks KMS's answer)."""
CIPHERTEXT_BLOB_BYTES: Final = 167
"""Of the order of KMS's ciphertext of a 32-byte data key (167 bytes in the AWS CLI's
GenerateDataKey example): the SDK stores the blob in every message header, so its size matters
for the stored item, not for the CPU."""
KMS_KEY_ARN_PREFIX: Final = "arn:aws:kms:"


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
    for its answer (0: answered at once, for CPU measurements). ``keep_items``: while true, the
    items of BatchWriteItem requests are kept in ``items`` (wire form), to check what would be
    stored. ``encryption_contexts``: the context of every KMS GenerateDataKey request.
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
        self.keep_items = False
        self.items: list[dict[str, Any]] = []
        self.encryption_contexts: list[dict[str, str]] = []
        self.data_key = secrets.token_bytes(DATA_KEY_BYTES)
        self.data_key_blob = secrets.token_bytes(CIPHERTEXT_BLOB_BYTES)
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
            self.items.clear()
            self.encryption_contexts.clear()

    def client(self, service: str, **options: Any) -> Any:
        client = self.session.client(service, **options)
        self.attach(client)
        return client

    def resource(self, service: str, **options: Any) -> Any:
        resource = self.session.resource(service, **options)
        self.attach(resource.meta.client)
        return resource

    def field_masker(self, key_arn: str) -> Any:
        """The consumer kit's data masker (``field_encryption.data_masker``, as shipped) whose
        Encryption SDK KMS client is answered by this stub.

        The SDK builds its KMS client from a botocore session of its own when the masker is
        made: dummy credentials in the environment keep botocore from looking further (files,
        instance metadata), and the stub's hooks go onto that client afterwards."""
        from stream_pipeline.kit.field_encryption import data_masker

        with environment(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 -- a dummy, nothing is sent
            AWS_DEFAULT_REGION=REGION,
        ):
            masker = data_masker(key_arn)
        # Private hop (Powertools keeps its KMSKeyProvider in ``_key_provider``); the SDK's
        # master key for the ARN holds the one client it calls KMS with, for encrypt and decrypt.
        provider: Any = masker.provider
        key_provider = provider._key_provider.key_provider
        self.attach(key_provider.master_key_for_encrypt(key_arn).config.client)
        return masker

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
            if self.keep_items:
                self.items.extend(
                    request["PutRequest"]["Item"]
                    for requests in params["RequestItems"].values()
                    for request in requests
                    if "PutRequest" in request
                )

    def _kms(self, operation: str, body: bytes) -> tuple[int, bytes]:
        """KMS's status and body for the Encryption SDK's requests; an error as KMS words it for
        anything the stub cannot answer truthfully (another key length, a foreign blob)."""
        params = json.loads(body or b"{}")
        if operation == "GenerateDataKey":
            key_id = str(params.get("KeyId", ""))
            length = params.get("NumberOfBytes") or {"AES_256": 32, "AES_128": 16}.get(
                str(params.get("KeySpec")), 0
            )
            if not key_id.startswith(KMS_KEY_ARN_PREFIX) or length != DATA_KEY_BYTES:
                # The SDK sends the key ARN it is configured with and checks the answer's KeyId
                # is an ARN: an alias or a bare id would need a lookup this stub does not have.
                return _kms_error("ValidationException", f"stub: key {key_id!r}, {length} bytes")
            with self._lock:
                self.encryption_contexts.append(dict(params.get("EncryptionContext") or {}))
            return 200, json.dumps(
                {
                    "KeyId": key_id,
                    "Plaintext": base64.b64encode(self.data_key).decode(),
                    "CiphertextBlob": base64.b64encode(self.data_key_blob).decode(),
                }
            ).encode()
        if operation == "Decrypt":
            blob = base64.b64decode(params.get("CiphertextBlob", ""))
            key_id = str(params.get("KeyId", ""))
            if blob != self.data_key_blob or not key_id.startswith(KMS_KEY_ARN_PREFIX):
                return _kms_error("InvalidCiphertextException", "stub: not this stub's data key")
            return 200, json.dumps(
                {
                    "KeyId": key_id,
                    "Plaintext": base64.b64encode(self.data_key).decode(),
                    "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                }
            ).encode()
        return _kms_error("UnsupportedOperationException", f"stub: kms.{operation}")

    def _answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        service, operation = event_name.split(".", 2)[1:]
        api = f"{service}.{operation}"
        headers: dict[str, str] = JSON_HEADERS
        status = 200
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
        elif api in ("kms.GenerateDataKey", "kms.Decrypt"):
            headers = KMS_HEADERS
            status, body = self._kms(operation, request.body)
        else:
            with self._lock:
                self.unexpected[api] += 1
            body = b"{}"
        if self.round_trip_ms:
            time.sleep(self.round_trip_ms / 1000)  # the network and the service, in one wait
        with self._lock:
            self._in_flight -= 1
        return AWSResponse(request.url, status, headers, _Body(body))


def _kms_error(code: str, message: str) -> tuple[int, bytes]:
    return 400, json.dumps({"__type": code, "message": message}).encode()
