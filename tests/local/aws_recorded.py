"""AWS-recorded samples (tests/data/aws_recorded) and the shape comparison of a record the local
runtime built against one of them.

The samples come from LocalStack's snapshot files of tests marked ``aws.validated`` (recorded
against AWS; LocalStack's snapshot transformers replaced the values that differ between runs
with placeholders) and from the Lambda developer guide's examples. A record matches a sample
when, field by field:

* every dict has exactly the sample's keys (a key AWS leaves out must be left out; a ``null``
  AWS keeps must be kept);
* a placeholder is met by a value of its kind and format: ``<timestamp:2022-07-13T13:48:01.000Z>``
  an ISO-8601 UTC time with milliseconds, ``<timestamp:2022-07-13T13:48:01Z>`` one with whole
  seconds, ``<uuid:N>`` a UUID, a text with placeholders (an ARN) the same text around any
  values, and the redacted timestamps by the type AWS-validated assertions give them
  (``REDACTED_NUMBERS``);
* any other value is equal, type included (``1`` is not ``1.0``, ``None`` is not missing),
  except where a test names the path as naturally different (``loose``): then the JSON type
  must match.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tools.terraform_stage import REPO_ROOT

SAMPLES = REPO_ROOT / "tests" / "data" / "aws_recorded"
ACCOUNT_IN_SAMPLES = "111111111111"

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PLACEHOLDER = re.compile(r"<[^<>]+>")


def _epoch_seconds_float(value: Any) -> bool:
    """A JSON number with a fraction part allowed, ten digits before the point (the check
    LocalStack's AWS-validated tests make: ``int(math.log10(timestamp)) == 9``)."""
    return isinstance(value, float) and int(math.log10(value)) == 9


def _whole_epoch_seconds_float(value: Any) -> bool:
    """The same, a float (``isinstance(creation_time, float)`` in the AWS-validated DynamoDB
    filter test), rounded down to the second as DynamoDB Streams report it."""
    return _epoch_seconds_float(value) and value == int(value)


REDACTED_NUMBERS: dict[str, Callable[[Any], bool]] = {
    "<approximate-arrival-timestamp>": _epoch_seconds_float,
    "<approximate-creation-datetime>": _whole_epoch_seconds_float,
}
"""Placeholders that hide a number: LocalStack's transformer prints ``str(value)``."""

REDACTED_TEXT = {"date": ISO_MILLIS}
"""LocalStack's Lambda transformer replaces an invocation record's ``timestamp`` by ``date``;
the Lambda developer guide's records and the stream records above have milliseconds."""


def load(name: str) -> dict[str, Any]:
    """The sample ``name`` (file stem) and its ``_source``."""
    data = json.loads((SAMPLES / f"{name}.json").read_text())
    assert data["_source"], f"{name}: a recorded sample names its source"
    return data


def sample(name: str) -> Any:
    return load(name)["sample"]


def _text_pattern(template: str) -> re.Pattern[str]:
    """``arn:<partition>:kinesis:<region>:111111111111:stream/<resource:1>`` -> a regex with
    any non-empty value for each placeholder and any 12-digit account."""
    parts = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(".+?")
        position = match.end()
    parts.append(re.escape(template[position:]))
    pattern = "".join(parts).replace(re.escape(ACCOUNT_IN_SAMPLES), r"\d{12}")
    return re.compile(f"^{pattern}$")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def differences(
    recorded: Any,
    built: Any,
    *,
    loose: Iterable[str] = (),
    path: str = "$",
    bound: dict[str, Any] | None = None,
) -> list[str]:
    """Where ``built`` (from the local runtime) differs from ``recorded`` (the AWS sample);
    empty when they match. ``loose``: paths (``$.a.b``, list indexes as ``[0]``) whose values
    naturally differ and are compared by JSON type only. A numbered placeholder that stands
    for a whole value (``<uuid:1>``) stands for the same value wherever it occurs: the
    ``requestId`` of an invocation record and of its error payload, a batch's start and end
    sequence numbers when it holds one record."""
    loose = set(loose)
    bound = {} if bound is None else bound
    found: list[str] = []
    if path in loose:
        if _json_type(recorded) != _json_type(built):
            found.append(f"{path}: {_json_type(recorded)} expected, got {_json_type(built)}")
        return found
    if isinstance(recorded, str) and re.fullmatch(r"<[^<>]+:\d+>", recorded):
        if recorded in bound and bound[recorded] != built:
            found.append(f"{path}: {built!r} differs from {bound[recorded]!r} ({recorded})")
        bound.setdefault(recorded, built)
    if isinstance(recorded, dict):
        if not isinstance(built, dict):
            return [f"{path}: object expected, got {_json_type(built)}"]
        for key in sorted(set(recorded) - set(built)):
            found.append(f"{path}.{key}: missing (AWS has it)")
        for key in sorted(set(built) - set(recorded)):
            found.append(f"{path}.{key}: present (AWS leaves it out)")
        for key in sorted(set(recorded) & set(built)):
            found += differences(
                recorded[key], built[key], loose=loose, path=f"{path}.{key}", bound=bound
            )
        return found
    if isinstance(recorded, list):
        if not isinstance(built, list):
            return [f"{path}: array expected, got {_json_type(built)}"]
        if len(recorded) != len(built):
            return [f"{path}: {len(recorded)} element(s) expected, got {len(built)}"]
        for index, (left, right) in enumerate(zip(recorded, built, strict=True)):
            found += differences(left, right, loose=loose, path=f"{path}[{index}]", bound=bound)
        return found
    if isinstance(recorded, str) and recorded in REDACTED_NUMBERS:
        if not REDACTED_NUMBERS[recorded](built):
            found.append(f"{path}: {built!r} is not what AWS sends for {recorded}")
        return found
    if isinstance(recorded, str) and recorded in REDACTED_TEXT:
        if not (isinstance(built, str) and REDACTED_TEXT[recorded].match(built)):
            found.append(f"{path}: {built!r} is not an ISO-8601 UTC time with milliseconds")
        return found
    if isinstance(recorded, str) and recorded.startswith("<timestamp:"):
        pattern = ISO_MILLIS if ISO_MILLIS.match(recorded[11:-1]) else ISO_SECONDS
        if not (isinstance(built, str) and pattern.match(built)):
            found.append(f"{path}: {built!r} does not have the format of {recorded}")
        return found
    if isinstance(recorded, str) and re.fullmatch(r"<uuid:\d+>", recorded):
        if not (isinstance(built, str) and UUID.match(built)):
            found.append(f"{path}: {built!r} is not a UUID")
        return found
    if isinstance(recorded, str) and PLACEHOLDER.search(recorded):
        if not (isinstance(built, str) and _text_pattern(recorded).match(built)):
            found.append(f"{path}: {built!r} does not have the form of {recorded!r}")
        return found
    if _json_type(recorded) != _json_type(built):
        return [f"{path}: {_json_type(recorded)} expected, got {_json_type(built)} {built!r}"]
    if recorded != built:
        found.append(f"{path}: {recorded!r} expected, got {built!r}")
    return found


def source_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))
