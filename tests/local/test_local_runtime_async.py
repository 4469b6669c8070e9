"""SNS -> Lambda (asynchronous invocation) and lambda:Invoke in the local runtime.

Each docstring quotes the AWS documentation sentence the test holds the runtime to.
"""

from __future__ import annotations

import json
import re

import pytest
from local_runtime_harness import ACCOUNT, REGION, Aws

from stream_pipeline.local.runtime.invoker import WORKER_RUNTIME


def _subscribe(aws: Aws, function: str) -> tuple[str, str]:
    topic = aws.topic("notifications")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    subscription = aws.sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    return topic, subscription["SubscriptionArn"]


def test_sns_notification_event_shape(aws: Aws) -> None:
    """AWS (with-sns): SNS invokes a subscribed function asynchronously "with an event that
    contains a message and metadata" -- Records[].Sns with Type, MessageId, TopicArn, Subject,
    Message, Timestamp, MessageAttributes; EventSource aws:sns.

    GIVEN a function subscribed to a topic
    WHEN a message with a subject and an attribute is published
    THEN the function gets one record carrying the published message and its real ids.
    """
    function = aws.function()
    topic, subscription = _subscribe(aws, function)

    published = aws.sns.publish(
        TopicArn=topic,
        Message='{"hello": "sns"}',
        Subject="greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    aws.drain()

    (invocation,) = aws.invocations(function)
    (record,) = invocation["event"]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == subscription
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published["MessageId"]
    assert sns["TopicArn"] == topic
    assert sns["Subject"] == "greeting"
    assert sns["Message"] == '{"hello": "sns"}'
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", sns["Timestamp"])
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    assert {"SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(sns)


def test_async_function_error_is_retried_twice_then_sent_to_the_on_failure_destination(
    aws: Aws,
) -> None:
    """AWS (invocation-async-error-handling): "If the function returns an error, by default
    Lambda attempts to run it two more times"; then (invocation-async-retain-records) "The
    invocation record contains details about the request and response in JSON format."

    GIVEN a failing function with an event invoke config naming an SQS on-failure destination
    WHEN an SNS notification invokes it
    THEN it runs three times and one invocation record (RetriesExhausted) reaches the queue.
    """
    function = aws.function(mode="fail-always")
    queue_url, queue_arn = aws.queue("async-failures")
    aws.configure_async(function, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    topic, _ = _subscribe(aws, function)

    aws.sns.publish(TopicArn=topic, Message="boom")
    aws.drain()

    invocations = aws.invocations(function)
    assert len(invocations) == 3
    (record,) = aws.messages(queue_url, expect=1)
    assert list(record) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": invocations[-1]["request_id"],
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == invocations[0]["event"]
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "probe: failing as configured"
    assert aws.counters(function=function)["async_retries"] == 2


def test_async_maximum_retry_attempts_from_the_event_invoke_config(aws: Aws) -> None:
    """AWS (invocation-async-configuring): "MaximumRetryAttempts: The maximum number of times
    that Lambda retries events when the function returns an error."

    GIVEN an event invoke config with MaximumRetryAttempts 0
    WHEN a notification invokes a failing function
    THEN it runs once and the record says approximateInvokeCount 1.
    """
    function = aws.function(mode="fail-always")
    queue_url, queue_arn = aws.queue("async-failures")
    aws.configure_async(
        function,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    topic, _ = _subscribe(aws, function)

    aws.sns.publish(TopicArn=topic, Message="boom")
    aws.drain()

    assert len(aws.invocations(function)) == 1
    (record,) = aws.messages(queue_url, expect=1)
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_async_success_goes_to_the_on_success_destination(aws: Aws) -> None:
    """AWS (invocation-async-retain-records): "You can configure separate destinations for
    events that are processed successfully, and events that fail all processing attempts."

    GIVEN an OnSuccess destination
    WHEN a notification invokes a function that succeeds
    THEN a Success record with the function's response reaches the destination.
    """
    function = aws.function(mode="echo")
    queue_url, queue_arn = aws.queue("async-successes")
    aws.configure_async(function, DestinationConfig={"OnSuccess": {"Destination": queue_arn}})
    topic, _ = _subscribe(aws, function)

    aws.sns.publish(TopicArn=topic, Message="fine")
    aws.drain()

    (record,) = aws.messages(queue_url, expect=1)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["records"] == 1


@pytest.mark.parametrize(("mode", "error"), [("echo", None), ("fail-always", "Unhandled")])
def test_lambda_invoke_runs_the_handler(aws: Aws, mode: str, error: str | None) -> None:
    """AWS (API_Invoke): "For synchronous invocation, details about the function response,
    including errors, are included in the response body and headers."

    GIVEN a function
    WHEN a client calls lambda:Invoke (RequestResponse)
    THEN the handler's result, or its error with FunctionError Unhandled, comes back.
    """
    function = aws.function(mode=mode)

    response = aws.awslambda.invoke(FunctionName=function, Payload=b'{"Records": [{"x": 1}]}')

    payload = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == error
    if error is None:
        assert payload["event"] == {"Records": [{"x": 1}]}
    else:
        assert payload["errorMessage"] == "probe: failing as configured"


def test_a_function_of_another_python_is_refused_not_run(aws: Aws) -> None:
    """GIVEN a function whose runtime is not the Python the local runtime's workers run on
    WHEN it is invoked
    THEN the invocation fails with a reason naming both versions, and the handler never runs
    (running it anyway would test it on another Python than it deploys on).
    """
    other = "python3.13" if WORKER_RUNTIME != "python3.13" else "python3.12"
    function = aws.function(mode="echo", runtime=other)

    response = aws.awslambda.invoke(FunctionName=function, Payload=b"{}")

    payload = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled"
    assert payload["errorType"] == "Runtime.UnsupportedRuntime"
    assert other in payload["errorMessage"]
    assert WORKER_RUNTIME in payload["errorMessage"]
    assert aws.invocations(function) == []


def test_a_slow_init_does_not_count_against_the_function_timeout(aws: Aws) -> None:
    """AWS (lambda-runtime-environment): the Init phase "is limited to 10 seconds"; the
    function's timeout applies to the Invoke phase.

    GIVEN a function with a 1 s timeout whose handler module takes 2 s to import
    WHEN it is invoked on a cold worker
    THEN the invocation succeeds: the import ran before the timeout started.
    """
    function = aws.function(mode="echo", timeout=1, environment={"PROBE_IMPORT_SLEEP": "2"})

    response = aws.awslambda.invoke(FunctionName=function, Payload=b'{"Records": []}')

    assert response.get("FunctionError") is None, response["Payload"].read()
    assert json.loads(response["Payload"].read())["records"] == 0
