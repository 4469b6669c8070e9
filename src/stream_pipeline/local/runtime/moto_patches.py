"""Neutralise moto's own stream -> Lambda and SNS -> Lambda deliveries (moto 5.2.5).

moto stores every event source mapping setting but "delivers" by running the function through
Docker once per put record (and for every SNS publish to a Lambda subscription), even with
``lambda.use_docker=false``. The exact code paths and what replaces them:

====================================================  ==========================================
moto code path                                        patch
====================================================  ==========================================
``LambdaBackend.create_event_source_mapping``         the mapping is kept in the Lambda backend
  registers the mapping on the source object:         (list/get/update/delete work), then
  ``kinesis Stream.lambda_event_source_mappings``,    removed from the source object's dict, so
  ``dynamodb Table.lambda_event_source_mappings``,    no put ever reaches moto's delivery loop.
  ``sqs Queue.lambda_event_source_mappings``          Also accepts an EFO consumer ARN (moto
                                                      rejects it) and records each shard's tip
                                                      for LATEST.
``kinesis Stream.put_record`` -> ``LambdaBackend.     ``send_kinesis_message`` is a no-op;
  send_kinesis_message`` -> ``LambdaFunction.invoke``  ``Stream.put_record`` counts the write.
  -> ``_invoke_lambda`` (Docker)
``dynamodb StreamShard.add`` -> ``LambdaBackend.       ``send_dynamodb_items`` is a no-op that
  send_dynamodb_items`` (Docker); a truthy result     returns None (the stream is never emptied);
  *empties the stream* (``self.items = []``)          ``StreamShard.add`` counts the write.
``sqs Queue.add_message`` -> ``send_sqs_batch``       ``send_sqs_batch`` is a no-op (SQS mappings
                                                      are not run by this runtime).
``sns Subscription.publish`` (protocol ``lambda``)    handed to the runtime's asynchronous
  -> ``LambdaBackend.send_sns_message`` (Docker)      invoker with the notification's real ids;
                                                      ``send_sns_message`` is a no-op.
``kinesis Shard.get_min/max_sequence_number``         O(1) instead of copying every key per put
                                                      (same results; puts no longer slow down
                                                      as a shard fills).
``LambdaBackend.invoke`` (``lambda:Invoke``)          routed to the runtime's workers when a sink
                                                      is registered (RequestResponse and Event);
                                                      DryRun stays moto's.
====================================================  ==========================================

Four moto deviations from AWS are corrected on the way: ``PutFunctionEventInvokeConfig``
replaces the configuration (moto appends and keeps returning the first one) and
``UpdateFunctionEventInvokeConfig`` merges into it; a bucket policy's TLS-only Deny, which
moto applies without its condition to the plain-HTTP endpoint, no longer matches (clients reach
AWS over TLS), nor does a Deny conditioned only on the caller's ARN (one identity for every
caller of the emulator); ``EventSourceMapping.get_configuration``
returns ``StartingPositionTimestamp`` (moto stores but never returns it); DynamoDB stream shard
iterators, which moto keeps forever, are capped (AWS expires them after 15 minutes); an SES v2
configuration set's ``SendingOptions`` reads back as AWS's boolean; DynamoDB and Kinesis
requests are handled one at a time (``moto_serial``: moto drops concurrent writes). Every
call that changes what the runtime reads (functions, mappings, invoke configs, subscriptions)
wakes its configuration refresh.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stream_pipeline.local.runtime import moto_serial
from stream_pipeline.local.runtime.hub import HUB, MappingCreation, SnsDelivery

LOG = logging.getLogger("local_runtime.moto")

EFO_CONSUMER_ARN = re.compile(
    r"^(?P<stream>arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[^/]+)/consumer/[^/]+$"
)
MAX_DYNAMODB_SHARD_ITERATORS = 20_000
InvokeSink = Callable[[str, bytes, str], tuple[bytes, str | None]]
"""(function ARN, payload, invocation type) -> (response payload, function error or None)."""

_applied = False
_invoke_sink: InvokeSink | None = None


def set_invoke_sink(sink: InvokeSink | None) -> None:
    global _invoke_sink
    _invoke_sink = sink


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wrap_notify(cls: Any, name: str) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        HUB.notify_config_changed()
        return result

    setattr(cls, name, wrapper)


def _no_delivery(name: str, result: Any) -> Callable[..., Any]:
    def disabled(*_args: Any, **_kwargs: Any) -> Any:
        LOG.debug("moto %s neutralised: the local runtime delivers instead", name)
        return result

    disabled.__name__ = name
    return disabled


def _patch_lambda_backend() -> None:
    from moto.awslambda.models import EventInvokeConfig, EventSourceMapping, LambdaBackend
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    def detach(backend: Any, esm: Any) -> None:
        """Forget the mapping on its source objects: moto delivers through those dicts."""
        account, region = backend.account_id, backend.region_name
        sources: list[Any] = list(sqs_backends[account][region].queues.values())
        sources += list(dynamodb_backends[account][region].tables.values())
        sources += list(kinesis_backends[account][region].streams.values())
        for source in sources:
            mappings = getattr(source, "lambda_event_source_mappings", None)
            if not isinstance(mappings, dict):
                continue
            for key in [key for key, value in mappings.items() if value is esm]:
                del mappings[key]

    def shard_tips(backend: Any, source_arn: str) -> dict[str, str | None]:
        account, region = backend.account_id, backend.region_name
        tips: dict[str, str | None] = {}
        if ":kinesis:" in source_arn:
            stream_arn = source_arn.split("/consumer/")[0]
            for stream in kinesis_backends[account][region].streams.values():
                if stream.arn == stream_arn:
                    for shard in stream.shards.values():
                        last = shard.get_max_sequence_number() if shard.records else None
                        tips[shard.shard_id] = None if last is None else str(last)
        elif ":dynamodb:" in source_arn:
            for table in dynamodb_backends[account][region].tables.values():
                stream_shard = table.stream_shard
                if stream_shard is not None and source_arn.startswith(table.table_arn + "/"):
                    count = len(stream_shard.items)
                    last = stream_shard.starting_sequence_number + count - 1
                    tips[stream_shard.id] = str(last) if count else None
        return tips

    original_create = LambdaBackend.create_event_source_mapping

    def refuse_duplicate(backend: Any, spec: dict[str, Any]) -> None:
        """AWS keeps one mapping per function and stream source: a second CreateEventSourceMapping
        (e.g. an SDK retry of a call that already succeeded) is a ResourceConflictException,
        never a second reader of every record."""
        from moto.core.exceptions import JsonRESTError

        source_arn = str(spec.get("EventSourceArn") or "")
        if ":kinesis:" not in source_arn and ":dynamodb:" not in source_arn:
            return
        function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(
            str(spec.get("FunctionName") or "")
        )
        for esm in backend._event_source_mappings.values():
            if esm.event_source_arn == source_arn and esm.function_arn == function.function_arn:
                msg = (
                    f'An event source mapping with event source ("{source_arn}") and function '
                    f'("{function.function_name}") already exists. Please update or delete the '
                    f"existing mapping with UUID {esm.uuid}"
                )
                raise JsonRESTError("ResourceConflictException", msg)

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        refuse_duplicate(self, spec)
        source_arn = str(spec.get("EventSourceArn") or "")
        match = EFO_CONSUMER_ARN.match(source_arn)
        consumer = None
        if match:
            streams = kinesis_backends[self.account_id][self.region_name].streams.values()
            stream = next((s for s in streams if s.arn == match.group("stream")), None)
            if stream is not None:
                consumer = stream.get_consumer_by_arn(source_arn)
        if consumer is not None and match is not None:
            esm = original_create(self, {**spec, "EventSourceArn": match.group("stream")})
            esm.event_source_arn = source_arn
        else:
            esm = original_create(self, spec)
        detach(self, esm)
        HUB.mapping_creations[esm.uuid] = MappingCreation(
            created_at=time.time(), shard_tips=shard_tips(self, esm.event_source_arn)
        )
        HUB.notify_config_changed()
        return esm

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]

    original_get_configuration = EventSourceMapping.get_configuration

    def get_configuration(self: Any) -> dict[str, Any]:
        configuration: dict[str, Any] = original_get_configuration(self)
        if self.starting_position_timestamp is not None:
            configuration["StartingPositionTimestamp"] = self.starting_position_timestamp
        return configuration

    EventSourceMapping.get_configuration = get_configuration  # type: ignore[method-assign]

    def put_function_event_invoke_config(
        self: Any, function_name: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        # AWS: "put-function-event-invoke-config overwrites any existing configuration".
        fn = self.get_function(function_name)
        event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
        fn.event_invoke_config = [event_config]
        HUB.notify_config_changed()
        response: dict[str, Any] = event_config.response()
        return response

    def update_function_event_invoke_config(
        self: Any, function_name: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        fn = self.get_function(function_name)
        merged = dict(fn.event_invoke_config[0].config) if fn.event_invoke_config else {}
        merged.update(config)
        return put_function_event_invoke_config(self, function_name, merged)

    LambdaBackend.put_function_event_invoke_config = put_function_event_invoke_config  # type: ignore[method-assign]
    LambdaBackend.update_function_event_invoke_config = update_function_event_invoke_config  # type: ignore[method-assign]

    for name in (
        "create_function",
        "update_function_configuration",
        "update_function_code",
        "delete_function",
        "update_event_source_mapping",
        "delete_event_source_mapping",
        "delete_function_event_invoke_config",
    ):
        _wrap_notify(LambdaBackend, name)

    LambdaBackend.send_kinesis_message = _no_delivery("send_kinesis_message", None)  # type: ignore[method-assign]
    LambdaBackend.send_dynamodb_items = _no_delivery("send_dynamodb_items", None)  # type: ignore[method-assign]
    LambdaBackend.send_sqs_batch = _no_delivery("send_sqs_batch", False)  # type: ignore[method-assign]
    LambdaBackend.send_sns_message = _no_delivery("send_sns_message", None)  # type: ignore[method-assign]

    original_invoke = LambdaBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        sink = _invoke_sink
        invocation_type = str(headers.get("x-amz-invocation-type") or "RequestResponse")
        if sink is None or invocation_type == "DryRun":
            return original_invoke(self, function_name, qualifier, body, headers, response_headers)
        fn = self.get_function(function_name, qualifier)
        payload = body if isinstance(body, bytes) else str(body or "").encode("utf-8")
        result, function_error = sink(fn.function_arn, payload, invocation_type)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        response_headers["x-amz-executed-version"] = "$LATEST"
        response_headers["Content-Length"] = str(len(result))
        return result

    LambdaBackend.invoke = invoke  # type: ignore[method-assign]


def _patch_streams() -> None:
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend
    from moto.kinesis.models import Shard, Stream

    # moto copies every key of the shard to find the first/last one, once per put record: a
    # put gets slower as the shard fills. Same answers, in constant time.
    def get_min_sequence_number(self: Any) -> int:
        return int(next(iter(self.records))) if self.records else 0

    def get_max_sequence_number(self: Any) -> int:
        return int(next(reversed(self.records))) if self.records else 0

    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]

    original_put = Stream.put_record

    def put_record(self: Any, partition_key: str, explicit_hash_key: str, data: str) -> Any:
        result = original_put(self, partition_key, explicit_hash_key, data)
        HUB.record_write()
        return result

    Stream.put_record = put_record  # type: ignore[method-assign]

    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        original_add(self, old, new)
        HUB.record_write()

    StreamShard.add = add  # type: ignore[method-assign]

    original_get_records = DynamoDBStreamsBackend.get_records

    def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        result: dict[str, Any] = original_get_records(self, iterator_arn, limit)
        excess = len(self.shard_iterators) - MAX_DYNAMODB_SHARD_ITERATORS
        if excess > 0:
            for key in list(self.shard_iterators)[:excess]:
                del self.shard_iterators[key]
        return result

    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


def _patch_sns() -> None:
    from moto.sns.models import SNSBackend, Subscription

    original_publish = Subscription.publish

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        if self.protocol != "lambda":
            original_publish(
                self,
                message,
                message_id,
                subject=subject,
                message_attributes=message_attributes,
                group_id=group_id,
                deduplication_id=deduplication_id,
                message_structure=message_structure,
            )
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        sink = HUB.sns_sink
        if sink is None:
            HUB.warn(f"SNS notification {message_id} for {self.endpoint} dropped: no runtime")
            return
        sink(
            SnsDelivery(
                function_arn=self.endpoint,
                subscription_arn=self.arn,
                topic_arn=self.topic.arn,
                message_id=message_id,
                message=message,
                subject=subject,
                message_attributes=dict(message_attributes or {}),
                timestamp=_now_iso(),
                region=self.endpoint.split(":")[3],
            )
        )

    Subscription.publish = publish  # type: ignore[method-assign]
    for name in ("subscribe", "unsubscribe"):
        _wrap_notify(SNSBackend, name)


def _patch_fidelity() -> None:
    """Two moto 5.2.5 deviations that stop ``environments/local`` from applying:

    - an EFO consumer ARN lacks AWS's ``:<creation timestamp>`` suffix
      (``.../stream/<name>/consumer/<consumer>:<timestamp>``), which ``modules/stream-consumer``
      validates ``event_source_arn`` against;
    - ``GetQueueAttributes`` never returns ``RedriveAllowPolicy`` (moto stores it), so the
      provider's wait for the attributes it set times out after 3 minutes (``aws_sqs_queue``
      of ``modules/hydrating-dlq``).
    """
    from moto.kinesis import models as kinesis_models
    from moto.sqs import models as sqs_models

    consumer_class: Any = kinesis_models.Consumer
    queue_class: Any = sqs_models.Queue
    consumer_init = consumer_class.__init__
    if getattr(consumer_init, "_fidelity_patched", False):
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        consumer_init(self, *args, **kwargs)
        self.consumer_arn = f"{self.consumer_arn}:{int(self.created.timestamp())}"

    init._fidelity_patched = True  # type: ignore[attr-defined]
    consumer_class.__init__ = init

    queue_attributes = queue_class.attributes.fget

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = queue_attributes(self)
        value = getattr(self, "redrive_allow_policy", None)
        if value:
            result["RedriveAllowPolicy"] = value if isinstance(value, str) else json.dumps(value)
        return result

    queue_class.attributes = property(attributes)


def _patch_sesv2_configuration_set() -> None:
    """moto 5.2.5's ``GetConfigurationSet`` (SES v2) returns ``SendingOptions`` as
    ``{"SendingEnabled": {...}}``, the stored request object nested once more, which the provider
    cannot decode: ``environments/local`` (the e-mail notifier's ``aws_sesv2_configuration_set``)
    would not apply. It is returned as AWS does, ``{"SendingEnabled": <bool>}`` (default true).
    """
    from moto.ses import models as ses_models

    set_class: Any = ses_models.ConfigurationSet
    to_dict_v2 = set_class.to_dict_v2
    if getattr(to_dict_v2, "_sesv2_patched", False):
        return

    def fixed_to_dict_v2(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = to_dict_v2(self)
        options = self.enabled if isinstance(self.enabled, dict) else {}
        result["SendingOptions"] = {"SendingEnabled": bool(options.get("SendingEnabled", True))}
        return result

    fixed_to_dict_v2._sesv2_patched = True  # type: ignore[attr-defined]
    set_class.to_dict_v2 = fixed_to_dict_v2


INSECURE_TRANSPORT: dict[str, Any] = {"Bool": {"aws:SecureTransport": "false"}}
"""The condition of a TLS-only Deny statement (the failure bucket's DenyInsecureTransport)."""
CALLER_KEYS: frozenset[str] = frozenset({"aws:PrincipalArn", "aws:PrincipalIsAWSService"})
"""Condition keys naming the caller (the aws/lambda/ prefix's DenyOnFailureObjectWritesByOthers):
the emulator has one set of dummy credentials for every caller, so it cannot tell them apart."""


def _unmatchable_deny(statement: Any) -> bool:
    """A Deny moto would apply without its condition although, in AWS, it does not match the
    emulator's callers: TLS-only (clients reach AWS over TLS), or only about who the caller is
    (the runtime's own writes stand for Lambda's, with the execution role's identity)."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return False
    condition = statement.get("Condition")
    if condition == INSECURE_TRANSPORT:
        return True
    if not isinstance(condition, dict) or not condition:
        return False
    keys = {key for block in condition.values() if isinstance(block, dict) for key in block}
    return bool(keys) and keys <= CALLER_KEYS


def _patch_s3_bucket_policy() -> None:
    """moto 5.2.5 evaluates a bucket policy without its conditions, so a TLS-only Deny
    (``aws:SecureTransport`` false) denies every request to the emulator's plain-HTTP endpoint.
    AWS clients reach S3 over TLS, where that statement never matches: it is left out of moto's
    check, as is a Deny conditioned only on who the caller is (:data:`CALLER_KEYS`), which the
    emulator cannot tell. Statements with any other condition are still evaluated as moto
    does."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    bucket_class: Any = FakeBucket
    if getattr(bucket_class.get_permission, "_tls_patched", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        policy["Statement"] = [
            statement for statement in statements if not _unmatchable_deny(statement)
        ]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    get_permission._tls_patched = True  # type: ignore[attr-defined]
    bucket_class.get_permission = get_permission


def apply() -> None:
    """Install every patch (idempotent)."""
    global _applied
    if _applied:
        return
    _patch_lambda_backend()
    _patch_streams()
    _patch_sns()
    _patch_fidelity()
    _patch_s3_bucket_policy()
    _patch_sesv2_configuration_set()
    moto_serial.apply()
    _applied = True
