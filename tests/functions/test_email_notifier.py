"""The e-mail notifier: purchase events -> exactly one SES v2 e-mail each, whatever the retries
and replays; everything that can never be sent -> the shared DLQ envelope; transient failures
-> batch item failures.

SES v2, DynamoDB (idempotency table) and SQS (DLQ) are moto. Failures are injected with an
``Intercepted`` client, so what succeeds really lands in moto: "exactly one e-mail" is counted
in moto's SES backend, not inferred from the handler's response.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from email_factories import (
    CONFIGURATION_SET,
    ENVIRONMENT_VARIABLES,
    IDEMPOTENCY_TABLE,
    NOTIFIER_CONSUMER,
    RATE_LIMIT_TABLE,
    SENDER_ADDRESS,
    SENDER_IDENTITY,
    NotifierAws,
    NotifierHarness,
    failing_first,
    idempotency_key,
    purchase_event,
    view_event,
)
from factories import (
    MISSING,
    REGION,
    FakeLambdaContext,
    Intercepted,
    always_raise,
    client_error,
    dynamodb_event,
    dynamodb_record,
    encode,
    kinesis_event,
    kinesis_event_of,
    kinesis_record,
    retail_event,
    sequence_numbers,
)
from moto import mock_aws
from stream_harness import emf_metrics

from email_notifier import app, templates
from email_notifier.config import DEFAULT_EXPIRES_AFTER_SECONDS, ConfigurationError, Settings
from email_notifier.models import InvalidAddressError, check_address
from email_notifier.policy import RECIPIENT_NOT_ALLOWED, RecipientPolicy
from email_notifier.rate_limit import RECIPIENT_RATE_LIMITED, recipient_key
from email_notifier.templates import EmailTemplate
from stream_pipeline.kit import ConsumerSettings
from stream_pipeline.runtime.claim_check import fetch_payload
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory, PayloadFormat


@pytest.fixture(autouse=True)
def _notifier_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """None of the notifier's variables from the shell; no dependencies cached across tests."""
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    app.consumer.set_dependencies(None)
    yield
    app.consumer.set_dependencies(None)


@pytest.fixture
def notifier_aws() -> Iterator[NotifierAws]:
    with mock_aws():
        yield NotifierAws.create()


@pytest.fixture
def harness(notifier_aws: NotifierAws) -> NotifierHarness:
    harness = NotifierHarness(aws=notifier_aws)
    harness.configure()
    return harness


def metric_values(captured_stdout: str) -> dict[str, list[float]]:
    """Metric name -> values (dimensions left out: the service name is fixed at import)."""
    return {
        name: [value for value, _ in entries]
        for name, entries in emf_metrics(captured_stdout).items()
    }


def only_envelope(aws: NotifierAws) -> DlqEnvelope:
    (envelope,) = aws.dlq_envelopes()
    return envelope


# --------------------------------------------------------------------------- happy path


def test_purchase_sends_one_email_with_recipient_subject_and_content(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a purchase of 2 x "Espresso cup" at 12.99 EUR by user-7@example.com
    WHEN the handler processes it
    THEN exactly one e-mail goes from the configured sender to that address, with the product
    in the subject and a text and HTML body holding product, quantity, prices and order id;
    nothing is retried or dead-lettered, and a completed idempotency record remains.
    """
    event = purchase_event(eventId="order-1001")

    response = harness.invoke(kinesis_event_of([event]))

    assert response == {"batchItemFailures": []}
    (sent,) = notifier_aws.sent()
    assert sent.source == SENDER_ADDRESS
    assert sent.to == ["user-7@example.com"]
    assert sent.subject == "Your order confirmation: Espresso cup"
    (request,) = harness.send_requests()
    assert request["ConfigurationSetName"] == CONFIGURATION_SET
    simple = request["Content"]["Simple"]
    text = simple["Body"]["Text"]["Data"]
    html_body = simple["Body"]["Html"]["Data"]
    for body in (text, html_body):
        assert "Espresso cup (P0042)" in body
        assert "12.99 EUR" in body
        assert "25.98 EUR" in body
        assert "order-1001" in body
        assert "2023-11-14 22:13 UTC" in body
    assert html_body == sent.html
    assert simple["Subject"]["Charset"] == simple["Body"]["Html"]["Charset"] == "UTF-8"
    assert notifier_aws.dlq_envelopes() == []
    record = notifier_aws.idempotency_items()[idempotency_key("order-1001")]
    assert record["status"] == {"S": "COMPLETED"}
    expected_expiry = time.time() + DEFAULT_EXPIRES_AFTER_SECONDS
    assert abs(int(record["expiration"]["N"]) - expected_expiry) < 60


def test_configuration_set_and_expiry_come_from_the_settings(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN CONFIGURATION_SET_NAME and a one-hour idempotency expiry
    WHEN a purchase is notified
    THEN SendEmail names the configuration set and the record expires in about an hour.
    """
    harness.configure(
        configuration_set_name="transactional", idempotency_expires_after_seconds=3600
    )
    event = purchase_event(eventId="order-1002")

    harness.invoke(kinesis_event_of([event]))

    (request,) = harness.send_requests()
    assert request["ConfigurationSetName"] == "transactional"
    record = notifier_aws.idempotency_items()[idempotency_key("order-1002")]
    assert abs(int(record["expiration"]["N"]) - (time.time() + 3600)) < 60


def test_other_event_types_are_skipped_and_counted(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a view and an add_to_cart (with addresses), which are not notified by default
    WHEN the handler processes them (as if the ESM filter had let them through)
    THEN no e-mail is sent, nothing is dead-lettered or retried, no idempotency record is
    written, and RecordsSkipped counts both.
    """
    event = kinesis_event_of([view_event(), purchase_event(eventType="add_to_cart")])

    response = harness.invoke(event)

    assert response == {"batchItemFailures": []}
    assert notifier_aws.sent() == []
    assert notifier_aws.dlq_envelopes() == []
    assert notifier_aws.idempotency_items() == {}
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["RecordsSkipped"] == [2.0]
    assert metrics["EmailsSent"] == [0.0]


# --------------------------------------------------------------------------- exactly once


def test_same_event_twice_in_one_batch_sends_one_email(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a batch holding the same purchase twice (the producer retried a PutRecords entry)
    WHEN the handler processes it
    THEN one e-mail is sent and the second copy is counted as a skipped duplicate.
    """
    event = purchase_event()

    response = harness.invoke(kinesis_event_of([event, event]))

    assert response == {"batchItemFailures": []}
    assert len(notifier_aws.sent()) == 1
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["EmailsSent"] == [1.0]
    assert metrics["EmailsSkippedDuplicate"] == [1.0]


def test_retried_batch_sends_no_second_email(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a batch that was processed
    WHEN the event source mapping delivers the same records again (retry, bisect), even to a
    new execution environment (fresh dependencies)
    THEN no second e-mail is sent.
    """
    event = kinesis_event_of([purchase_event(), purchase_event(email="other@example.com")])
    harness.invoke(event)

    harness.configure()
    response = harness.invoke(event)

    assert response == {"batchItemFailures": []}
    assert sorted(mail.to[0] for mail in notifier_aws.sent()) == [
        "other@example.com",
        "user-7@example.com",
    ]
    assert harness.send_requests() == []


def test_replayed_event_sends_no_second_email(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a purchase that was notified
    WHEN the same event comes back as a new stream record (the replay CLI puts DLQ records back
    with new sequence numbers, e.g. after the stream processor dead-lettered it)
    THEN no second e-mail is sent.
    """
    event = purchase_event()
    harness.invoke(kinesis_event(kinesis_record(event)))

    response = harness.invoke(kinesis_event(kinesis_record(event)))

    assert response == {"batchItemFailures": []}
    assert len(notifier_aws.sent()) == 1


def test_event_without_event_id_is_deduplicated_by_its_payload(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a purchase without eventId, delivered twice (fields in another order the 2nd time)
    WHEN both are processed
    THEN one e-mail is sent: the derived id (sha256 of the canonical payload) is the key.
    """
    event = purchase_event(eventId=MISSING)
    reordered = dict(reversed(list(event.items())))

    harness.invoke(kinesis_event_of([event]))
    harness.invoke(kinesis_event_of([reordered]))

    assert len(notifier_aws.sent()) == 1


def test_replay_after_the_idempotency_record_expired_sends_again(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a notified purchase whose idempotency record has expired (TTL passed)
    WHEN the event is replayed
    THEN it is sent again: the TTL bounds how long a replay is recognised (see README.md).
    """
    event = purchase_event(eventId="order-old")
    harness.invoke(kinesis_event_of([event]))
    notifier_aws.expire(idempotency_key("order-old"))

    harness.invoke(kinesis_event_of([event]))

    assert len(notifier_aws.sent()) == 2


# --------------------------------------------------------------------------- transient errors


@pytest.mark.parametrize(
    "error",
    [
        client_error("TooManyRequestsException", "SendEmail", status=429),
        client_error("LimitExceededException", "SendEmail", status=400),
        client_error("SendingPausedException", "SendEmail", status=400),
        client_error("InternalFailure", "SendEmail", status=500),
        EndpointConnectionError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
    ],
    ids=["throttled", "quota", "paused", "5xx", "connection", "timeout"],
)
def test_transient_ses_error_is_retried_and_the_retry_sends_exactly_one(
    harness: NotifierHarness,
    notifier_aws: NotifierAws,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
) -> None:
    """GIVEN SES fails the first SendEmail with a transient error, then recovers
    WHEN a batch of two purchases is processed, and the ESM retries from the failed record
    THEN the first invocation reports only the failed record (the other is sent), nothing is
    dead-lettered, no idempotency record blocks the retry, and the retry sends exactly the
    missing e-mail: one e-mail per purchase in all.
    """
    first, second = purchase_event(email="first@example.com"), purchase_event()
    event = kinesis_event_of([first, second])
    harness.configure(sesv2=Intercepted(notifier_aws.sesv2, send_email=failing_first(1, error)))

    failed = harness.failed_sequence_numbers(event)

    assert failed == [sequence_numbers(event)[0]]
    assert [mail.to for mail in notifier_aws.sent()] == [["user-7@example.com"]]
    assert idempotency_key(first["eventId"]) not in notifier_aws.idempotency_items()
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["EmailsFailed"] == [1.0]
    assert metrics["BatchItemFailures"] == [1.0]

    retried = harness.failed_sequence_numbers(event)

    assert retried == []
    assert sorted(mail.to[0] for mail in notifier_aws.sent()) == [
        "first@example.com",
        "user-7@example.com",
    ]
    assert notifier_aws.dlq_envelopes() == []


def test_event_in_progress_elsewhere_is_retried_not_sent(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN another invocation holds the event's idempotency record (in progress, not expired)
    WHEN the event is processed
    THEN the record is a batch item failure and nothing is sent; once the in-progress record
    has expired (its invocation timed out), the retry sends the e-mail once.
    """
    event = purchase_event(eventId="order-busy")
    key = idempotency_key("order-busy")
    now = int(time.time())
    notifier_aws.put_idempotency_record(
        key, status="INPROGRESS", in_progress_until_ms=(now + 600) * 1000, expires_at=now + 3600
    )
    batch = kinesis_event_of([event])

    assert harness.failed_sequence_numbers(batch) == sequence_numbers(batch)
    assert notifier_aws.sent() == []

    notifier_aws.put_idempotency_record(
        key, status="INPROGRESS", in_progress_until_ms=(now - 1) * 1000, expires_at=now + 3600
    )
    assert harness.failed_sequence_numbers(batch) == []
    assert len(notifier_aws.sent()) == 1


def test_idempotency_table_errors_are_retried_without_sending(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN the idempotency table throttles every write
    WHEN a purchase is processed
    THEN it is a batch item failure, and no e-mail is sent without its idempotency record.
    """
    throttled = Intercepted(
        notifier_aws.dynamodb,
        put_item=always_raise(client_error("ProvisionedThroughputExceededException", "PutItem")),
    )
    harness.configure(dynamodb=throttled)
    event = kinesis_event_of([purchase_event()])

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)
    assert notifier_aws.sent() == []
    assert notifier_aws.dlq_envelopes() == []


def test_email_accepted_but_not_recorded_is_not_retried(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN SES accepts the e-mail but marking the idempotency record completed fails
    WHEN the purchase is processed
    THEN the record is settled (a retry would send the e-mail a second time) and one e-mail
    went out.
    """
    broken = Intercepted(
        notifier_aws.dynamodb,
        update_item=always_raise(client_error("InternalServerError", "UpdateItem", status=500)),
    )
    harness.configure(dynamodb=broken)

    response = harness.invoke(kinesis_event_of([purchase_event()]))

    assert response == {"batchItemFailures": []}
    assert len(notifier_aws.sent()) == 1


# --------------------------------------------------------------------------- permanent errors


@pytest.mark.parametrize(
    "code",
    ["MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"],
)
def test_ses_rejection_is_dead_lettered_and_a_later_replay_sends(
    harness: NotifierHarness, notifier_aws: NotifierAws, code: str
) -> None:
    """GIVEN SES permanently refuses the e-mail (rejected content, unverified MAIL FROM domain,
    an address SES will not take)
    WHEN the purchase is processed
    THEN it is not retried: one NOTIFICATION_REJECTED envelope with the original bytes and SES'
    reason goes to the DLQ, and no idempotency record is kept -- so replaying the envelope once
    the cause is fixed sends the e-mail once.
    """
    event = purchase_event(eventId="order-rejected")
    record = kinesis_record(event)
    error = client_error(code, "SendEmail", message="refused by SES")
    harness.configure(sesv2=Intercepted(notifier_aws.sesv2, send_email=always_raise(error)))

    response = harness.invoke(kinesis_event(record))

    assert response == {"batchItemFailures": []}
    assert notifier_aws.sent() == []
    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is ErrorCategory.NOTIFICATION_REJECTED
    assert envelope.error_reason == f"SES refused the e-mail: {code}: refused by SES"
    assert envelope.consumer == NOTIFIER_CONSUMER
    assert envelope.sequence_number == record["kinesis"]["sequenceNumber"]
    assert envelope.original_bytes() == encode(event)
    assert notifier_aws.idempotency_items() == {}

    harness.configure()
    harness.invoke(kinesis_event(kinesis_record(envelope.original_bytes())))

    assert len(notifier_aws.sent()) == 1


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        (MISSING, "email: Field required"),
        (None, "email: Input should be a valid string"),
        (42, "email: Input should be a valid string"),
        ("", "email: Value error, not a valid e-mail address: it is empty"),
        ("user-7.example.com", "it must have the form local-part@domain"),
        ("user-7@localhost", "it has an invalid domain"),
        ("user-7@-shop.example", "it has an invalid domain"),
        ("user..7@example.com", "it has an invalid local part"),
        ("a@b@example.com", "it has an invalid local part"),
        ("Bob <bob@example.com>", "it contains whitespace or control characters"),
        ("bob@example.com\r\nBcc: all@example.com", "whitespace or control characters"),
        ("jürgen@example.com", "it must be ASCII"),
        ("u" * 65 + "@example.com", "local part longer than 64 characters"),
    ],
    ids=[
        "missing",
        "null",
        "number",
        "empty",
        "no-at",
        "single-label-domain",
        "hyphen-label",
        "double-dot",
        "two-ats",
        "display-name",
        "header-injection",
        "non-ascii",
        "long-local-part",
    ],
)
def test_missing_or_invalid_address_is_dead_lettered_with_a_readable_reason(
    harness: NotifierHarness, notifier_aws: NotifierAws, email: Any, reason: str
) -> None:
    """GIVEN a purchase whose email field is missing, of the wrong type or not a valid address
    WHEN the handler processes it
    THEN no e-mail is sent and the record is not retried: one SCHEMA_VIOLATION envelope whose
    reason names the field and the broken rule (never the address) holds the original bytes.
    """
    event = purchase_event(email=email)

    response = harness.invoke(kinesis_event_of([event]))

    assert response == {"batchItemFailures": []}
    assert notifier_aws.sent() == []
    assert harness.send_requests() == []
    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is ErrorCategory.SCHEMA_VIOLATION
    assert envelope.error_reason.startswith("email: ")
    assert reason in envelope.error_reason
    if isinstance(email, str) and email:
        assert email not in envelope.error_reason
    assert envelope.original_bytes() == encode(event)
    assert notifier_aws.idempotency_items() == {}


def test_invalid_notification_fields_are_dead_lettered(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a purchase whose quantity is a string and currency is not an ISO code
    WHEN processed
    THEN a SCHEMA_VIOLATION envelope names both fields and nothing is sent.
    """
    harness.invoke(kinesis_event_of([purchase_event(quantity="2", currency="euro")]))

    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is ErrorCategory.SCHEMA_VIOLATION
    assert "quantity: " in envelope.error_reason
    assert "currency: " in envelope.error_reason
    assert notifier_aws.sent() == []


def test_template_error_is_dead_lettered(
    harness: NotifierHarness, notifier_aws: NotifierAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a purchase template referencing a placeholder that does not exist
    WHEN a purchase is processed
    THEN a NOTIFICATION_REJECTED envelope names the template and placeholder; nothing is sent.
    """
    broken = EmailTemplate(name="broken", subject="Order ${nope}", text="t", html="h")
    monkeypatch.setitem(templates.TEMPLATES, "purchase", broken)  # type: ignore[arg-type]

    response = harness.invoke(kinesis_event_of([purchase_event()]))

    assert response == {"batchItemFailures": []}
    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is ErrorCategory.NOTIFICATION_REJECTED
    assert envelope.error_reason == "template 'broken' uses the unknown placeholder ${nope}"
    assert notifier_aws.sent() == []


@pytest.mark.parametrize(
    ("record", "category", "reason_start"),
    [
        (kinesis_record(b'{"userId": "u-1", '), ErrorCategory.INVALID_JSON, "not valid JSON"),
        (
            kinesis_record('{"eventType": "purchase", "note": "Crème"}'.encode("latin-1")),
            ErrorCategory.INVALID_ENCODING,
            "not UTF-8",
        ),
        (kinesis_record(raw_data="%%%not-base64%%%"), ErrorCategory.DECODE_ERROR, "data is not"),
        (kinesis_record([purchase_event()]), ErrorCategory.NOT_AN_OBJECT, "JSON value is list"),
        (
            kinesis_record(purchase_event(timestamp="2025-01-31")),
            ErrorCategory.SCHEMA_VIOLATION,
            "timestamp: ",
        ),
    ],
    ids=["invalid-json", "not-utf8", "not-base64", "not-an-object", "schema"],
)
def test_undecodable_record_is_dead_lettered(
    harness: NotifierHarness,
    notifier_aws: NotifierAws,
    record: dict[str, Any],
    category: ErrorCategory,
    reason_start: str,
) -> None:
    """GIVEN a record that is not a retail event (bad JSON, not UTF-8, not base64, not an
    object, schema violation)
    WHEN processed
    THEN the shared envelope (same rules and categories as the stream processor) goes to the
    DLQ with the record's bytes; nothing is sent or retried.
    """
    response = harness.invoke(kinesis_event(record))

    assert response == {"batchItemFailures": []}
    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is category
    assert envelope.error_reason.startswith(reason_start)
    assert envelope.payload_available
    expected_format = (
        PayloadFormat.KINESIS_DATA_FIELD
        if category is ErrorCategory.DECODE_ERROR
        else PayloadFormat.RAW
    )
    assert envelope.payload_format is expected_format
    assert notifier_aws.sent() == []


def test_dlq_send_failure_is_a_batch_item_failure(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN the DLQ refuses every SendMessageBatch (5xx)
    WHEN a batch with bad JSON, a purchase without address and a good purchase is processed
    THEN the two bad records are batch item failures (never dropped) after bounded retries of
    their one shared send, and the good purchase is still sent.
    """
    failing_sqs = Intercepted(
        notifier_aws.sqs,
        send_message_batch=always_raise(
            client_error("InternalError", "SendMessageBatch", status=500)
        ),
    )
    harness.configure(sqs=failing_sqs)
    event = kinesis_event(
        kinesis_record(b"{oops"),
        kinesis_record(purchase_event(email=MISSING)),
        kinesis_record(purchase_event()),
    )

    failed = harness.failed_sequence_numbers(event)

    assert failed == sequence_numbers(event)[:2]
    assert len(harness.sleeps) == 2  # 2 retries of the batch's one SendMessageBatch
    assert [mail.to for mail in notifier_aws.sent()] == [["user-7@example.com"]]
    assert notifier_aws.dlq_envelopes() == []


# --------------------------------------------------------------------------- rendering


def test_markup_in_the_product_name_is_escaped_in_the_html_body(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a product name holding a script, markup, quotes and a line break
    WHEN the purchase is notified
    THEN the HTML body holds it escaped (no live tag), the text body holds it as text, and
    the subject stays one line (no CR/LF to inject headers).
    """
    name = "<script>alert(\"x\")</script> & <b onclick='steal()'>Deal</b>\r\nBcc: all@example.com"
    harness.invoke(kinesis_event_of([purchase_event(productName=name)]))

    (request,) = harness.send_requests()
    simple = request["Content"]["Simple"]
    html_body = simple["Body"]["Html"]["Data"]
    text = simple["Body"]["Text"]["Data"]
    subject = simple["Subject"]["Data"]
    assert "<script>" not in html_body
    assert "<b onclick" not in html_body
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
        "&lt;b onclick=&#x27;steal()&#x27;&gt;Deal&lt;/b&gt; Bcc: all@example.com"
    ) in html_body
    assert "<script>alert(\"x\")</script> & <b onclick='steal()'>Deal</b> Bcc:" in text
    assert "\r" not in subject
    assert "\n" not in subject
    assert subject.startswith('Your order confirmation: <script>alert("x")</script>')
    assert len(notifier_aws.sent()) == 1


def _rendered(**fields: Any) -> templates.RenderedEmail:
    from email_notifier.models import NotificationFields, NotifierEvent

    document = purchase_event(**fields)
    event = NotifierEvent.model_validate(document)
    return templates.render(
        templates.ORDER_CONFIRMATION,
        templates.template_values(
            event, document["eventId"], NotificationFields.model_validate(document)
        ),
    )


def test_long_product_name_is_cut_to_its_cap_everywhere_and_missing_price_reads_n_a() -> None:
    """GIVEN a 250-character product name and no price
    WHEN rendered
    THEN subject, text and HTML hold only its first 79 characters and an ellipsis
    (MAX_PRODUCT_CHARS = 80), and totals read n/a.
    """
    rendered = _rendered(productName="x" * 250, priceCents=MISSING, currency=MISSING)

    capped = "x" * 79 + "\N{HORIZONTAL ELLIPSIS}"
    assert rendered.subject == f"Your order confirmation: {capped}"
    for body in (rendered.text, rendered.html):
        assert f"{capped} (P0042)" in body
        assert "x" * 80 not in body
    assert "Total:      n/a" in rendered.text


def test_the_cut_comes_before_escaping_so_no_entity_is_broken() -> None:
    """GIVEN a product name whose 79th character is an ampersand, followed by more markup
    WHEN rendered
    THEN the HTML body holds the whole entity &amp; before the ellipsis, never a cut one.
    """
    rendered = _rendered(productName="a" * 78 + "&<b>bold</b>")

    assert "a" * 78 + "&amp;\N{HORIZONTAL ELLIPSIS} (P0042)" in rendered.html
    assert "<b>" not in rendered.html


def test_a_subject_longer_than_its_cap_is_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a template whose subject joins three values of up to 128 characters
    WHEN rendered with long ids
    THEN the subject is MAX_SUBJECT_CHARS (200) characters, ending in an ellipsis.
    """
    long_subject = EmailTemplate(
        name="long", subject="${user_id} ${product_id} ${order_id}", text="t", html="h"
    )
    values = {"user_id": "u" * 200, "product_id": "p" * 200, "order_id": "o" * 128}

    rendered = templates.render(long_subject, values)

    assert len(rendered.subject) == templates.MAX_SUBJECT_CHARS == 200
    assert rendered.subject.startswith("u" * 127 + "\N{HORIZONTAL ELLIPSIS} " + "p" * 10)
    assert rendered.subject.endswith("\N{HORIZONTAL ELLIPSIS}")


@pytest.mark.parametrize(
    "address",
    [
        "user-7@example.com",
        "first.last+tag@mail.shop.example",
        "o'brien@example.co.uk",
        "x@xn--bcher-kva.example",
        "UPPER@EXAMPLE.COM",
    ],
)
def test_plain_addresses_are_accepted(address: str) -> None:
    """GIVEN a plain local-part@domain address WHEN checked THEN it is returned unchanged."""
    assert check_address(address) == address


@pytest.mark.parametrize(
    "address",
    ["@example.com", "user@", ".user@example.com", "user.@example.com", "user@example.123"],
)
def test_malformed_addresses_are_refused(address: str) -> None:
    """GIVEN an address with an empty or dotted-out part, or a numeric top-level domain
    WHEN checked THEN it is refused."""
    with pytest.raises(InvalidAddressError):
        check_address(address)


# --------------------------------------------------------------------------- metrics, wiring


def test_metrics_account_for_every_record(
    harness: NotifierHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a batch: a purchase, its duplicate, a view, a purchase without address, bad JSON
    WHEN processed
    THEN EMF reports 1 sent, 1 duplicate, 1 skipped, 1 failed e-mail, 2 records dead-lettered
    (by category), no batch item failures, 5 records received.
    """
    purchase = purchase_event()
    event = kinesis_event(
        kinesis_record(purchase),
        kinesis_record(purchase),
        kinesis_record(view_event()),
        kinesis_record(purchase_event(email=MISSING)),
        kinesis_record(b"not json"),
    )

    harness.invoke(event)

    output = capsys.readouterr().out
    metrics = metric_values(output)
    assert metrics["RecordsReceived"] == [5.0]
    assert metrics["EmailsSent"] == [1.0]
    assert metrics["EmailsSkippedDuplicate"] == [1.0]
    assert metrics["RecordsSkipped"] == [1.0]
    assert metrics["EmailsFailed"] == [1.0]
    assert metrics["RecordsSentToDlq"] == [2.0]
    assert metrics["BatchItemFailures"] == [0.0]
    assert sorted(
        (dimensions["ErrorCategory"], value)
        for value, dimensions in emf_metrics(output)["RecordsSentToDlqByCategory"]
    ) == [("INVALID_JSON", 1.0), ("SCHEMA_VIOLATION", 1.0)]


def test_notify_event_types_selects_what_is_sent(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN NOTIFY_EVENT_TYPES=purchase and a batch of a purchase and a view
    WHEN processed THEN only the purchase is sent."""
    harness.configure(notify_event_types=frozenset({"purchase"}))

    harness.invoke(kinesis_event_of([view_event(), purchase_event(email="buyer@example.com")]))

    assert [mail.to for mail in notifier_aws.sent()] == [["buyer@example.com"]]


def test_records_from_another_source_fail_the_invocation(harness: NotifierHarness) -> None:
    """GIVEN a DynamoDB stream event WHEN invoked THEN a clear wiring error, nothing sent."""
    with pytest.raises(app.UnsupportedEventError, match="expects records from a Kinesis stream"):
        harness.invoke(dynamodb_event(dynamodb_record(purchase_event())))


def test_empty_batch_is_a_no_op(harness: NotifierHarness, notifier_aws: NotifierAws) -> None:
    """GIVEN an event without records WHEN invoked THEN nothing happens and nothing fails."""
    assert harness.invoke({"Records": []}) == {"batchItemFailures": []}
    assert notifier_aws.sent() == []


def _deployment_environment(monkeypatch: pytest.MonkeyPatch, aws: NotifierAws) -> None:
    """The variables modules/pipeline sets, pointing at the moto resources."""
    monkeypatch.setenv("SENDER_ADDRESS", SENDER_IDENTITY)
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE)
    monkeypatch.setenv("RATE_LIMIT_TABLE_NAME", RATE_LIMIT_TABLE)
    monkeypatch.setenv("CONFIGURATION_SET_NAME", CONFIGURATION_SET)
    monkeypatch.setenv("ALLOWED_RECIPIENT_DOMAINS", "example.com")
    monkeypatch.setenv("DLQ_URL", aws.queue_url)


def test_cold_start_reads_the_environment(
    notifier_aws: NotifierAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the deployment's environment (SENDER_ADDRESS, IDEMPOTENCY_TABLE_NAME, DLQ_URL, ...)
    WHEN the handler is invoked without injected dependencies
    THEN it builds its clients from the environment and sends the purchase's e-mail.
    """
    _deployment_environment(monkeypatch, notifier_aws)
    monkeypatch.setenv("NOTIFY_EVENT_TYPES", "purchase")

    response = app.lambda_handler(kinesis_event_of([purchase_event()]), FakeLambdaContext())  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    (sent,) = notifier_aws.sent()
    assert sent.source == SENDER_IDENTITY
    assert sent.to == ["user-7@example.com"]
    settings = app.consumer.extras.settings
    assert settings.configuration_set_name == CONFIGURATION_SET
    assert settings.idempotency_expires_after_seconds == DEFAULT_EXPIRES_AFTER_SECONDS
    assert len(notifier_aws.rate_limit_items()) == 1


def test_oversized_rejection_is_claim_checked_under_the_notifier_prefix(
    notifier_aws: NotifierAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the deployment's environment with the failure bucket (PAYLOAD_BUCKET) and the
    notifier's key prefix (PAYLOAD_KEY_PREFIX, what modules/pipeline sets and grants), and a
    300 KB purchase without an e-mail address (too large for an SQS message in its envelope)
    WHEN the handler is invoked (cold start)
    THEN the record is dead-lettered as SCHEMA_VIOLATION, pointer-only, its bytes at
    s3://<bucket>/<prefix><envelope id> (the kit's claim-check, as for every consumer), and no
    e-mail is sent.
    """
    s3 = boto3.session.Session(region_name=REGION).client("s3")
    s3.create_bucket(Bucket="failures", CreateBucketConfiguration={"LocationConstraint": REGION})
    _deployment_environment(monkeypatch, notifier_aws)
    monkeypatch.setenv("PAYLOAD_BUCKET", "failures")
    monkeypatch.setenv("PAYLOAD_KEY_PREFIX", "claim-check/shop-notifier/")
    event = purchase_event(email=MISSING, productName="p" * 300_000)

    response = app.lambda_handler(kinesis_event_of([event]), FakeLambdaContext())  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    envelope = only_envelope(notifier_aws)
    assert envelope.error_category is ErrorCategory.SCHEMA_VIOLATION
    assert envelope.payload_available is False
    assert envelope.payload_location == (
        f"s3://failures/claim-check/shop-notifier/{envelope.envelope_id}"
    )
    assert fetch_payload(s3, envelope) == encode(event)
    assert notifier_aws.sent() == []


# --------------------------------------------------------------------------- configuration

REQUIRED = {
    "SENDER_ADDRESS": "shop@example.com",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "RATE_LIMIT_TABLE_NAME": "rate-limit",
    "CONFIGURATION_SET_NAME": "transactional",
    "ALLOWED_RECIPIENT_DOMAINS": "example.com",
    "DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
}


@pytest.mark.parametrize(
    "missing",
    [[name] for name in REQUIRED] + [list(REQUIRED)],
)
def test_missing_required_variable_is_a_configuration_error_at_cold_start(
    monkeypatch: pytest.MonkeyPatch, missing: list[str]
) -> None:
    """GIVEN a deployment without a required variable
    WHEN the first invocation (cold start) builds its dependencies
    THEN a ConfigurationError names every missing variable, and only those.
    """
    for name, value in REQUIRED.items():
        if name not in missing:
            monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as caught:
        app.lambda_handler(kinesis_event_of([purchase_event()]), FakeLambdaContext())  # type: ignore[arg-type]

    message = str(caught.value)
    assert message.startswith("email_notifier: missing required environment variable(s): ")
    for name in REQUIRED:
        assert (name in message) is (name in missing)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDEMPOTENCY_EXPIRES_AFTER_SECONDS", "0", "must be a positive integer"),
        ("IDEMPOTENCY_EXPIRES_AFTER_SECONDS", "30d", "must be a positive integer"),
        ("NOTIFY_EVENT_TYPES", "purchase,refund", "without an e-mail template: refund"),
        ("SENDER_ADDRESS", "shop at example.com", "SENDER_ADDRESS must be an e-mail address"),
        ("SENDER_ADDRESS", "shop@example.com\nBcc: x@example.com", "must be one line"),
        ("ALLOWED_RECIPIENT_DOMAINS", "example.com,*", "or \\* alone for every domain"),
        ("ALLOWED_RECIPIENT_DOMAINS", "@example.com", "list of domain names"),
        ("ALLOWED_RECIPIENT_DOMAINS", "localhost", "list of domain names"),
        ("ALLOWED_RECIPIENT_DOMAINS", " , ", "list of domain names"),
        ("MAILBOX_SIMULATOR", "blackhole", "must be empty or one of bounce, complaint"),
        ("RATE_LIMIT_MAX_EMAILS", "0", "from 1 to 1000"),
        ("RATE_LIMIT_MAX_EMAILS", "1001", "from 1 to 1000"),
        ("RATE_LIMIT_MAX_EMAILS", "five", "from 1 to 1000"),
        ("RATE_LIMIT_WINDOW_SECONDS", "59", "from 60 to 604800"),
    ],
)
def test_invalid_setting_is_named(name: str, value: str, message: str) -> None:
    """GIVEN an invalid optional setting or sender WHEN read THEN the error names it."""
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({**REQUIRED, name: value})


def test_settings_defaults_and_parsing() -> None:
    """GIVEN only the required variables, then every optional one
    WHEN read
    THEN the defaults are purchase / 30 days / no configuration set, and the optional values
    are parsed (comma-separated types, blanks ignored; an empty set name means none).
    """
    defaults = Settings.from_env(REQUIRED)
    assert defaults.notify_event_types == frozenset({"purchase"})
    assert defaults.idempotency_expires_after_seconds == 2_592_000
    assert defaults.configuration_set_name == "transactional"
    assert defaults.rate_limit_max_emails == 5
    assert defaults.rate_limit_window_seconds == 3600
    assert defaults.recipient_policy == RecipientPolicy(frozenset({"example.com"}), None)
    # The envelopes' consumer is the kit's setting: the function's name, else email_notifier.
    assert ConsumerSettings.from_env(name=app.consumer.name, environ=REQUIRED).consumer_name == (
        "email_notifier"
    )

    configured = Settings.from_env(
        {
            **REQUIRED,
            "SENDER_ADDRESS": " Example Shop <shop@example.com> ",
            "CONFIGURATION_SET_NAME": "transactional",
            "IDEMPOTENCY_EXPIRES_AFTER_SECONDS": "86400",
            "NOTIFY_EVENT_TYPES": " purchase , ,",
            "ALLOWED_RECIPIENT_DOMAINS": " Example.com, shop.example ,",
            "MAILBOX_SIMULATOR": "Success",
            "RATE_LIMIT_MAX_EMAILS": "1000",
            "RATE_LIMIT_WINDOW_SECONDS": "60",
        }
    )
    assert configured.recipient_policy == RecipientPolicy(
        frozenset({"example.com", "shop.example"}), "success"
    )
    assert configured.rate_limit_max_emails == 1000
    assert configured.rate_limit_window_seconds == 60
    assert configured.sender_address == "Example Shop <shop@example.com>"
    assert configured.configuration_set_name == "transactional"
    assert configured.idempotency_expires_after_seconds == 86_400
    assert configured.notify_event_types == frozenset({"purchase"})
    renamed = {**REQUIRED, "AWS_LAMBDA_FUNCTION_NAME": "shop-notifier"}
    assert ConsumerSettings.from_env(name=app.consumer.name, environ=renamed).consumer_name == (
        "shop-notifier"
    )


def test_retail_event_factory_default_is_not_notified(harness: NotifierHarness) -> None:
    """GIVEN the shared factories' default event (a view without address)
    WHEN processed THEN it is skipped, not dead-lettered for its missing address."""
    assert harness.invoke(kinesis_event_of([retail_event()])) == {"batchItemFailures": []}
    assert harness.aws.dlq_envelopes() == []


# --------------------------------------------------------------------------- abuse limits


def _dlq_categories(output: str) -> list[tuple[str, float]]:
    return sorted(
        (dimensions["ErrorCategory"], value)
        for value, dimensions in emf_metrics(output)["RecordsSentToDlqByCategory"]
    )


def test_recipient_outside_the_policy_is_dead_lettered_with_its_reason(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the policy allows example.com and shop.example
    WHEN a purchase names a recipient at another domain (whoever writes to the stream picks it)
    THEN nothing is sent or counted: one email-notifier.RECIPIENT_NOT_ALLOWED envelope with the
    original bytes goes to the DLQ, its reason quotes neither the address nor its domain, and
    EmailsRecipientRefused counts it.
    """
    event = purchase_event(email="victim@phish-target.example")

    response = harness.invoke(kinesis_event_of([event]))

    assert response == {"batchItemFailures": []}
    assert harness.send_requests() == []
    assert notifier_aws.sent() == []
    envelope = only_envelope(notifier_aws)
    assert (
        envelope.error_category == RECIPIENT_NOT_ALLOWED == "email-notifier.RECIPIENT_NOT_ALLOWED"
    )
    assert "recipient policy" in envelope.error_reason
    assert "phish-target" not in envelope.error_reason
    assert envelope.original_bytes() == encode(event)
    assert notifier_aws.idempotency_items() == {}
    assert notifier_aws.rate_limit_items() == {}
    output = capsys.readouterr().out
    assert metric_values(output)["EmailsRecipientRefused"] == [1.0]
    assert _dlq_categories(output) == [("email-notifier.RECIPIENT_NOT_ALLOWED", 1.0)]
    assert "victim@phish-target.example" not in output


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("Bob@EXAMPLE.COM", True),
        ("bob@shop.example", True),
        ("bob@mail.example.com", False),
        ("bob@example.com.evil.example", False),
        ("bob@notexample.com", False),
        ("success@simulator.amazonses.com", True),
        ("success@notsimulator.amazonses.com", False),
    ],
    ids=[
        "case",
        "second-domain",
        "subdomain",
        "suffix-trick",
        "lookalike",
        "simulator",
        "simulator-lookalike",
    ],
)
def test_policy_matches_whole_domains_and_always_allows_the_simulator(
    harness: NotifierHarness, notifier_aws: NotifierAws, email: str, allowed: bool
) -> None:
    """GIVEN the policy example.com, shop.example
    WHEN a purchase names a recipient
    THEN it is sent only when its domain is one of them (case-insensitive, no subdomains, no
    look-alikes) or the SES mailbox simulator's; otherwise it is refused to the DLQ.
    """
    harness.invoke(kinesis_event_of([purchase_event(email=email)]))

    assert [mail.to for mail in notifier_aws.sent()] == ([[email]] if allowed else [])
    refused = [envelope.error_category for envelope in notifier_aws.dlq_envelopes()]
    assert refused == ([] if allowed else [RECIPIENT_NOT_ALLOWED])


def test_star_alone_allows_every_domain(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN ALLOWED_RECIPIENT_DOMAINS = * (a shop mailing the public, on purpose)
    WHEN a purchase names a recipient at any domain THEN it is sent."""
    harness.configure(recipient_policy=RecipientPolicy.of(["*"]))

    harness.invoke(kinesis_event_of([purchase_event(email="anyone@customer.example")]))

    assert [mail.to for mail in notifier_aws.sent()] == [["anyone@customer.example"]]


def test_mailbox_simulator_replaces_allowed_recipients_and_keeps_them_out_of_logs(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN MAILBOX_SIMULATOR = success (an environment outside prod)
    WHEN purchases name an allowed recipient, a bounce simulator address and a recipient outside
    the policy
    THEN the allowed one is sent to success@simulator.amazonses.com (the real address appears
    in no request and no log line), the simulator address is kept as it is, and the one outside
    the policy is still refused.
    """
    harness.configure(recipient_policy=RecipientPolicy.of(["example.com"], "success"))
    real = "real.customer@example.com"
    event = kinesis_event_of(
        [
            purchase_event(email=real),
            purchase_event(email="bounce@simulator.amazonses.com"),
            purchase_event(email="someone@elsewhere.example"),
        ]
    )

    harness.invoke(event)

    assert [mail.to for mail in notifier_aws.sent()] == [
        ["success@simulator.amazonses.com"],
        ["bounce@simulator.amazonses.com"],
    ]
    assert real not in repr(harness.send_requests())
    captured = capsys.readouterr()
    assert real not in captured.out + captured.err
    (envelope,) = notifier_aws.dlq_envelopes()
    assert envelope.error_category == RECIPIENT_NOT_ALLOWED


def test_a_flood_to_one_address_is_capped_and_the_rest_dead_lettered(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the default cap of 5 e-mails per recipient per hour
    WHEN 50 distinct purchases to one address arrive (a flood written to the stream)
    THEN 5 e-mails are sent, each with the configuration set; the 45 others are not sent and
    are dead-lettered as email-notifier.RECIPIENT_RATE_LIMITED with their original bytes;
    nothing is retried; EmailsRateLimited counts 45.
    """
    flood = [purchase_event(email="target@example.com") for _ in range(50)]

    response = harness.invoke(kinesis_event_of(flood))

    assert response == {"batchItemFailures": []}
    assert len(notifier_aws.sent()) == 5
    requests = harness.send_requests()
    assert [request["ConfigurationSetName"] for request in requests] == [CONFIGURATION_SET] * 5
    envelopes = notifier_aws.dlq_envelopes()
    assert [envelope.error_category for envelope in envelopes] == [RECIPIENT_RATE_LIMITED] * 45
    assert {envelope.original_bytes() for envelope in envelopes} == {
        encode(event) for event in flood[5:]
    }
    assert "5 e-mails in the current 3600-second window" in envelopes[0].error_reason
    output = capsys.readouterr().out
    assert metric_values(output)["EmailsRateLimited"] == [45.0]
    assert metric_values(output)["EmailsSent"] == [5.0]
    assert _dlq_categories(output) == [("email-notifier.RECIPIENT_RATE_LIMITED", 45.0)]


def test_redelivered_records_are_not_counted_twice(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a cap of 3, and 3 purchases to one address that were sent
    WHEN the same batch is delivered again (ESM retry, bisect or replay), to a new execution
    environment
    THEN nothing more is sent and nothing dead-lettered: they were counted already (the counter
    stays at 3 with their 3 event ids); a 4th purchase is then refused as rate limited.
    """
    harness.configure(rate_limit_max_emails=3)
    batch = kinesis_event_of([purchase_event(email="repeat@example.com") for _ in range(3)])
    harness.invoke(batch)

    harness.configure(rate_limit_max_emails=3)
    assert harness.invoke(batch) == {"batchItemFailures": []}

    assert len(notifier_aws.sent()) == 3
    assert notifier_aws.dlq_envelopes() == []
    (item,) = notifier_aws.rate_limit_items().values()
    assert item["sent"] == {"N": "3"}
    assert len(item["events"]["SS"]) == 3

    harness.invoke(kinesis_event_of([purchase_event(email="repeat@example.com")]))

    assert len(notifier_aws.sent()) == 3
    assert [e.error_category for e in notifier_aws.dlq_envelopes()] == [RECIPIENT_RATE_LIMITED]


def test_the_cap_counts_per_mailbox_and_per_window(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a cap of 2 per 10-minute window
    WHEN bob@, Bob+1@ and bob+2@example.com (one mailbox) and alice@example.com are e-mailed,
    then bob again in the next window
    THEN bob gets 2 in the first window (the third is rate limited), alice hers, and bob one
    more in the next window.
    """
    harness.configure(rate_limit_max_emails=2, rate_limit_window_seconds=600)
    harness.now = 1_800_000_000.0  # the start of a 600 s window
    harness.invoke(
        kinesis_event_of(
            [
                purchase_event(email="bob@example.com"),
                purchase_event(email="Bob+1@example.com"),
                purchase_event(email="bob+2@example.com"),
                purchase_event(email="alice@example.com"),
            ]
        )
    )

    assert [mail.to[0] for mail in notifier_aws.sent()] == [
        "bob@example.com",
        "Bob+1@example.com",
        "alice@example.com",
    ]
    assert [e.error_category for e in notifier_aws.dlq_envelopes()] == [RECIPIENT_RATE_LIMITED]

    harness.now += 600
    harness.invoke(kinesis_event_of([purchase_event(email="bob@example.com")]))

    assert len(notifier_aws.sent()) == 4


def test_counter_items_hold_no_address_and_expire_after_the_next_window(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a one-hour window
    WHEN a purchase is e-mailed
    THEN its counter item's id is a SHA-256 and the window number (the address is in no
    attribute), and its TTL is the end of the next window.
    """
    harness.now = 1_800_000_000.0
    harness.invoke(kinesis_event_of([purchase_event(email="private.person@example.com")]))

    ((key, item),) = notifier_aws.rate_limit_items().items()
    digest, window = key.split("#")
    assert len(digest) == 64
    assert int(window) == 1_800_000_000 // 3600
    assert "private.person" not in repr(item)
    assert int(item["expiration"]["N"]) == (int(window) + 2) * 3600


def test_a_cap_reached_by_another_invocation_is_honoured(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN another invocation has already counted the cap (5) for this recipient and window
    in the table (concurrent invocations share only the table)
    WHEN this invocation handles a purchase to that recipient
    THEN the conditional update refuses it: rate limited, not sent.
    """
    window = int(harness.now // 3600)
    notifier_aws.dynamodb.put_item(
        TableName=notifier_aws.rate_limit_table_name,
        Item={
            "id": {"S": f"{recipient_key('busy@example.com')}#{window}"},
            "sent": {"N": "5"},
            "events": {"SS": [f"other-{n}" for n in range(5)]},
            "expiration": {"N": str((window + 2) * 3600)},
        },
    )

    harness.invoke(kinesis_event_of([purchase_event(email="busy@example.com")]))

    assert notifier_aws.sent() == []
    assert [e.error_category for e in notifier_aws.dlq_envelopes()] == [RECIPIENT_RATE_LIMITED]


def test_rate_table_errors_are_retried_without_sending(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN the rate-limit table throttles every update
    WHEN a purchase is processed
    THEN it is a batch item failure: nothing is sent uncounted, nothing dead-lettered.
    """
    throttled = Intercepted(
        notifier_aws.dynamodb,
        update_item=always_raise(client_error("ThrottlingException", "UpdateItem", status=400)),
    )
    harness.configure(rate_limit_dynamodb=throttled)
    event = kinesis_event_of([purchase_event()])

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)
    assert notifier_aws.sent() == []
    assert notifier_aws.dlq_envelopes() == []


def test_simulator_recipients_are_not_capped_but_rewritten_ones_are(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a cap of 1, and MAILBOX_SIMULATOR = success
    WHEN three purchases name success@simulator.amazonses.com itself (stream-pipeline verify's
    canary, on every run) and two name one real customer
    THEN the three simulator ones are all sent and counted nowhere; of the customer's two,
    rewritten to the simulator, only one is sent: the cap counts the real recipient.
    """
    harness.configure(
        rate_limit_max_emails=1, recipient_policy=RecipientPolicy.of(["example.com"], "success")
    )
    harness.invoke(
        kinesis_event_of(
            [purchase_event(email="success@simulator.amazonses.com") for _ in range(3)]
            + [purchase_event(email="customer@example.com") for _ in range(2)]
        )
    )

    assert len(notifier_aws.sent()) == 4
    assert [e.error_category for e in notifier_aws.dlq_envelopes()] == [RECIPIENT_RATE_LIMITED]
    assert list(notifier_aws.rate_limit_items()) == [
        f"{recipient_key('customer@example.com')}#{int(harness.now // 3600)}"
    ]


def test_an_event_already_sent_is_never_counted_again_in_a_later_window(
    harness: NotifierHarness, notifier_aws: NotifierAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a cap of 1 per hour, purchase A sent to one customer in one hour and purchase B to
    the same customer in the next (the cap of that hour is used)
    WHEN A comes back in that next hour (a replay from the DLQ after the processor failed it)
    THEN it is a skipped duplicate, not rate limited: the idempotency record answers before the
    cap is taken, so nothing is dead-lettered and the counter is not touched.
    """
    harness.configure(rate_limit_max_emails=1)
    harness.now = 1_800_000_000.0
    first = purchase_event(email="regular@example.com")
    harness.invoke(kinesis_event_of([first]))
    harness.now += 3600
    harness.invoke(kinesis_event_of([purchase_event(email="regular@example.com")]))
    counters = notifier_aws.rate_limit_items()
    capsys.readouterr()

    response = harness.invoke(kinesis_event(kinesis_record(first)))

    assert response == {"batchItemFailures": []}
    assert len(notifier_aws.sent()) == 2
    assert notifier_aws.dlq_envelopes() == []
    assert notifier_aws.rate_limit_items() == counters
    assert metric_values(capsys.readouterr().out)["EmailsSkippedDuplicate"] == [1.0]


def test_a_rate_limited_event_keeps_no_idempotency_record_so_a_later_replay_sends(
    harness: NotifierHarness, notifier_aws: NotifierAws
) -> None:
    """GIVEN a cap of 1 per hour, used up
    WHEN a second purchase is rate limited, then replayed from the DLQ in the next hour
    THEN the replay sends it: the refusal left no idempotency record behind.
    """
    harness.configure(rate_limit_max_emails=1)
    harness.now = 1_800_000_000.0
    harness.invoke(kinesis_event_of([purchase_event(email="busy@example.com")]))
    second = purchase_event(email="busy@example.com", eventId="order-capped")
    harness.invoke(kinesis_event_of([second]))
    (envelope,) = notifier_aws.dlq_envelopes()
    assert envelope.error_category == RECIPIENT_RATE_LIMITED
    assert idempotency_key("order-capped") not in notifier_aws.idempotency_items()

    harness.now += 3600
    harness.invoke(kinesis_event(kinesis_record(envelope.original_bytes())))

    assert len(notifier_aws.sent()) == 2
