"""Lambda event filtering (``FilterCriteria.Filters[].Pattern``), as event source mappings apply it.

Filters are OR-ed: a record is delivered when it matches at least one pattern, and dropped
(consumed, never delivered) otherwise. A pattern is a JSON object whose leaves are arrays of
rules (OR-ed); every key of a pattern must match (AND). Supported rules: exact values (string,
number, boolean, null), ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``,
``anything-but`` (values, or a ``prefix``/``suffix``), ``exists`` and ``numeric``. Anything else
makes the pattern invalid -- AWS refuses such a mapping; the runtime does not run it.

The document a pattern is matched against: for Kinesis ``{"data": <the decoded JSON payload>}``
(Kinesis mappings only filter on ``data``; data that is not JSON has no ``data`` key, so a
``data`` pattern never matches it); for DynamoDB streams the Lambda record itself
(``eventName``, ``dynamodb.NewImage`` ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final

OPERATORS: Final = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "exists", "numeric"}
)
_NUMERIC_OPERATORS: Final = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


NOT_JSON: Final = object()
"""The ``data`` of a Kinesis record that is not JSON: no ``data`` pattern ever matches it."""


class InvalidPatternError(ValueError):
    """The pattern is not a filter pattern Lambda accepts (``str()`` says why)."""


def compile_patterns(patterns: Sequence[str]) -> list[dict[str, Any]]:
    compiled = []
    for text in patterns:
        try:
            pattern = json.loads(text)
        except ValueError as exc:
            msg = f"filter pattern is not JSON: {exc}"
            raise InvalidPatternError(msg) from exc
        _validate_object(pattern, path="")
        compiled.append(pattern)
    return compiled


def matches_any(patterns: Sequence[dict[str, Any]], document: dict[str, Any]) -> bool:
    """No patterns: everything matches."""
    return not patterns or any(_match_object(pattern, document) for pattern in patterns)


# --------------------------------------------------------------------------- validation


def _validate_object(pattern: Any, *, path: str) -> None:
    if not isinstance(pattern, dict) or not pattern:
        msg = f"filter pattern {path or '<root>'} must be a non-empty JSON object"
        raise InvalidPatternError(msg)
    for key, rule in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(rule, dict):
            _validate_object(rule, path=where)
        elif isinstance(rule, list) and rule:
            for item in rule:
                _validate_rule(item, path=where)
        else:
            msg = f"filter pattern {where}: expected an object or a non-empty array of rules"
            raise InvalidPatternError(msg)


def _validate_rule(rule: Any, *, path: str) -> None:
    if isinstance(rule, dict):
        if len(rule) != 1 or next(iter(rule)) not in OPERATORS:
            msg = f"filter pattern {path}: unsupported rule {json.dumps(rule)}"
            raise InvalidPatternError(msg)
        ((operator, argument),) = rule.items()
        if operator == "numeric":
            _numeric_terms(argument, path=path)
        elif operator == "exists" and not isinstance(argument, bool):
            msg = f"filter pattern {path}: exists takes true or false"
            raise InvalidPatternError(msg)
        elif operator in ("prefix", "suffix", "equals-ignore-case", "wildcard") and not (
            isinstance(argument, str)
        ):
            msg = f"filter pattern {path}: {operator} takes a string"
            raise InvalidPatternError(msg)
    elif isinstance(rule, list):
        msg = f"filter pattern {path}: nested arrays are not rules"
        raise InvalidPatternError(msg)


def _numeric_terms(argument: Any, *, path: str) -> list[tuple[str, float]]:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        msg = f"filter pattern {path}: numeric takes [operator, number, ...]"
        raise InvalidPatternError(msg)
    terms = []
    for index in range(0, len(argument), 2):
        operator, bound = argument[index], argument[index + 1]
        if operator not in _NUMERIC_OPERATORS or not _is_number(bound):
            msg = f"filter pattern {path}: bad numeric term {operator!r} {bound!r}"
            raise InvalidPatternError(msg)
        terms.append((str(operator), float(bound)))
    return terms


# --------------------------------------------------------------------------- matching


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _match_object(pattern: dict[str, Any], value: Any) -> bool:
    for key, rule in pattern.items():
        present = isinstance(value, dict) and key in value
        inner = value[key] if present else None
        if inner is NOT_JSON:
            return False
        if isinstance(rule, dict):
            if isinstance(inner, list):
                matched = any(isinstance(x, dict) and _match_object(rule, x) for x in inner)
            elif present and not isinstance(inner, dict):
                matched = False
            else:
                matched = _match_object(rule, inner if present else {})
        else:
            matched = _match_rules(rule, inner, present=present)
        if not matched:
            return False
    return True


def _match_rules(rules: list[Any], value: Any, *, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if present == bool(rule["exists"]):
                return True
            continue
        if not present:
            continue
        if isinstance(rule, dict):
            if any(_match_operator(rule, candidate) for candidate in values):
                return True
        elif any(_equals(rule, candidate) for candidate in values):
            return True
    return False


def _equals(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if _is_number(expected) and _is_number(actual):
        return float(expected) == float(actual)
    return isinstance(expected, str) and isinstance(actual, str) and expected == actual


def _match_operator(rule: dict[str, Any], value: Any) -> bool:
    ((operator, argument),) = rule.items()
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if operator == "wildcard":
        parts = re.split(r"(\*)", argument)
        regex = "".join(".*" if part == "*" else re.escape(part) for part in parts)
        return isinstance(value, str) and re.fullmatch(regex, value) is not None
    if operator == "numeric":
        if not _is_number(value):
            return False
        terms = _numeric_terms(argument, path="")
        return all(_NUMERIC_OPERATORS[op](float(value), bound) for op, bound in terms)
    if operator == "anything-but":
        if isinstance(argument, dict):
            return not _match_operator(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equals(item, value) for item in excluded)
    return False
