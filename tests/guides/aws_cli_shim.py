"""A stand-in for the AWS CLI (``aws SERVICE OPERATION --param value ... [--query Q]``), for
running the guides' commands where the AWS CLI is not installed. It maps the command onto
botocore's model exactly as the CLI does -- operation ``list-shards`` is ``ListShards``,
parameter ``--stream-name`` is member ``StreamName`` -- so a misspelt operation or parameter
fails here as it would with the real CLI. Values: JSON for structures, lists and maps (the CLI
accepts JSON for those too), numbers for numeric members, ``--flag``/``--no-flag`` for
booleans, several words after a list parameter as its items. Prints the response as JSON, or
the ``--query`` (JMESPath) result, ``--output text`` as the CLI's text of a scalar or list.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import boto3
import jmespath
from botocore import xform_name

GLOBAL_OPTIONS = {"--output", "--query", "--region", "--endpoint-url", "--profile"}


def _value(shape: Any, words: list[str]) -> Any:
    kind = shape.type_name
    if kind == "list":
        if len(words) == 1 and words[0].lstrip().startswith("["):
            return json.loads(words[0])
        return [_value(shape.member, [word]) for word in words]
    (word,) = words
    if kind in {"structure", "map"}:
        return json.loads(word)
    if kind in {"integer", "long"}:
        return int(word)
    if kind in {"double", "float"}:
        return float(word)
    if kind == "boolean":
        return word.lower() == "true"
    if kind == "timestamp":
        return datetime.fromisoformat(word.replace("Z", "+00:00"))
    if kind == "blob":
        return word.encode()
    return word


def main(argv: list[str]) -> int:
    service, operation, *rest = argv
    options: dict[str, list[str]] = {}
    current: str | None = None
    for word in rest:
        if word.startswith("--"):
            current = word
            options.setdefault(current, [])
        elif current is None:
            raise SystemExit(f"aws: unexpected argument {word!r}")
        else:
            options[current].append(word)
    client = boto3.client(service, region_name=(options.get("--region") or [None])[0])
    names = {xform_name(name, "-"): name for name in client.meta.service_model.operation_names}
    if operation not in names:
        raise SystemExit(f"aws {service}: no operation {operation!r}")
    model = client.meta.service_model.operation_model(names[operation])
    members = model.input_shape.members if model.input_shape else {}
    by_option = {"--" + xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    for option, words in options.items():
        if option in GLOBAL_OPTIONS:
            continue
        negated = option.startswith("--no-") and "--" + option[5:] in by_option
        name = by_option.get("--" + option[5:] if negated else option)
        if name is None:
            raise SystemExit(f"aws {service} {operation}: unknown option {option}")
        shape = members[name]
        if shape.type_name == "boolean" and not words:
            params[name] = not negated
        else:
            params[name] = _value(shape, words)
    response = getattr(client, xform_name(names[operation]))(**params)
    response.pop("ResponseMetadata", None)
    if "--query" in options:
        response = jmespath.search(options["--query"][0], response)
    if (options.get("--output") or ["json"])[0] == "text":
        items = response if isinstance(response, list) else [response]
        print("\t".join(str(item) for item in items))
    else:
        print(json.dumps(response, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
