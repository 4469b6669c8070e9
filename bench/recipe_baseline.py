"""BASELINE FOR COMPARISON ONLY -- not shipped, not deployed, not used by any module.

A faithful re-implementation of the handler of the recipe this project started from (the
Kinesis -> Lambda -> DynamoDB recipe, step 5, its ``lambda_function.py``):
per record base64 + JSON decode, the same enrichment, one DynamoDB ``PutItem`` through the
boto3 *resource* layer; one ``SendMessage`` per failed record; one CloudWatch
``PutMetricData`` per batch. The logic is the recipe's, line for line; the only change is that
the three module-level clients are set by :func:`configure` (the recipe builds them from the
environment at import) so that the benchmark can give it the same stubbed clients as ours.
Its shortcomings (records silently lost when the DLQ send fails, random record ids that
duplicate items on every retry, no partial batch response) are the recipe's and are kept.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any

table: Any = None
cloudwatch: Any = None
sqs: Any = None


def configure(*, dynamodb_resource: Any, cloudwatch_client: Any, sqs_client: Any) -> None:
    """What the recipe does at import: ``boto3.resource('dynamodb').Table(DYNAMODB_TABLE)``,
    ``boto3.client('cloudwatch')``, ``boto3.client('sqs')``."""
    global table, cloudwatch, sqs
    table = dynamodb_resource.Table(os.environ["DYNAMODB_TABLE"])
    cloudwatch = cloudwatch_client
    sqs = sqs_client


def process_event(event_data: dict[str, Any]) -> dict[str, Any]:
    """Process a single event and return results"""
    # Extract required fields
    user_id = event_data.get("userId")
    event_type = event_data.get("eventType")
    product_id = event_data.get("productId", "unknown")
    timestamp = int(event_data.get("timestamp", int(time.time() * 1000)))

    # Simple logic based on event type
    if event_type == "view":
        action = "viewed"
        event_score = 1
    elif event_type == "add_to_cart":
        action = "added to cart"
        event_score = 5
    elif event_type == "purchase":
        action = "purchased"
        event_score = 10
    else:
        action = "interacted with"
        event_score = 1

    # Generate a simple insight based on the event
    insight = f"User {user_id} {action} product {product_id}"

    # Data enrichment: add processing metadata
    processed_data = {
        "userId": user_id,
        "eventTimestamp": timestamp,
        "eventType": event_type,
        "productId": product_id,
        "eventScore": event_score,
        "insight": insight,
        "processedAt": int(time.time() * 1000),
        "recordId": str(uuid.uuid4()),
    }

    return processed_data  # noqa: RET504 -- the recipe's code, kept as it is


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Process records from Kinesis stream"""
    processed_count = 0
    failed_count = 0

    # Process each record in the batch
    for record in event["Records"]:
        # Decode and parse the record data
        try:
            # Kinesis data is base64 encoded
            payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
            event_data = json.loads(payload)

            # Process the event
            processed_data = process_event(event_data)

            # Store result in DynamoDB
            table.put_item(Item=processed_data)

            processed_count += 1

        except Exception as e:
            failed_count += 1
            print(f"Error processing record: {e!s}")

            # Send failed record to DLQ
            try:
                sqs.send_message(
                    QueueUrl=os.environ["DLQ_URL"],
                    MessageBody=json.dumps(
                        {
                            "error": str(e),
                            "record": record["kinesis"]["data"],
                            "timestamp": datetime.utcnow().isoformat(),
                        }
                    ),
                )
            except Exception as dlq_error:
                print(f"Error sending to DLQ: {dlq_error!s}")

    # Send custom metrics to CloudWatch
    try:
        cloudwatch.put_metric_data(
            Namespace="RetailEventProcessing",
            MetricData=[
                {"MetricName": "ProcessedEvents", "Value": processed_count, "Unit": "Count"},
                {"MetricName": "FailedEvents", "Value": failed_count, "Unit": "Count"},
            ],
        )
    except Exception as metric_error:
        print(f"Error publishing metrics: {metric_error!s}")

    # Return summary
    return {
        "processed": processed_count,
        "failed": failed_count,
        "total": processed_count + failed_count,
    }
