"""Bad input on every operation of the OpenAPI document: a 4xx problem, and nothing written.

For each operation (every plugin enabled, with its demo data) the suite sends, one at a
time, values no field can take: NaN, Infinity, 1e400, 30-digit and over-precise numbers,
negative amounts where the schema forbids them, NUL characters, deep nesting, wrong types
and ids beyond any column, in the body, the path and typed query parameters. Every answer
must be a 4xx ``application/problem+json``, and the database's fingerprint (each table's
row count and a hash of its rows) must be the same after the operation's requests as
before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from first_party_api import *  # noqa: F403  (the app with every plugin)
from first_party_api import database_fingerprint

BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "123456789012345678901234567890",
               "0.00000000000000000000000001"]
BAD_IDS = [2 ** 31, 2 ** 62, 2 ** 63, -(2 ** 63) - 1]
UNUSED_ID = 2 ** 31 - 1
"""In every id column's range, and no record has it: bodies are checked against no real record."""
DEEP = "[" * 100_000
METHODS = ("get", "post", "put", "patch", "delete")


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [resolved(document, s) for s in schema[key]]
            return next((s for s in options if s.get("type") != "null"), options[0])
    return schema


def types_of(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", "object")
    return {kind} if isinstance(kind, str) else set(kind)


def is_number(schema: dict[str, Any]) -> bool:
    return bool(types_of(schema) & {"number", "integer"}) or schema.get("format") in (
        "decimal", "money", "quantity", "rate")


def plausible(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A value of the schema's type, with every required property: the base that each bad
    value replaces one part of."""
    schema = resolved(document, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kinds = types_of(schema) - {"null"}
    if "object" in kinds:
        return {name: plausible(document, schema["properties"][name])
                for name in schema.get("required", []) if name in schema.get("properties", {})}
    if "array" in kinds:
        return [plausible(document, schema.get("items", {}))]
    if "integer" in kinds:
        return max(1, schema.get("minimum", 1))
    if "number" in kinds or schema.get("format") in ("decimal", "money", "quantity", "rate"):
        return "1"
    if "boolean" in kinds:
        return False
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00+00:00"
    return "x"


def bad_values(schema: dict[str, Any]) -> Iterator[Any]:
    """Values the schema refuses (and one that breaks any text column: NUL)."""
    kinds = types_of(schema) - {"null"}
    if is_number(schema):
        yield from BAD_NUMBERS
        if schema.get("minimum", -1) >= 0 or schema.get("exclusiveMinimum", -1) >= 0:
            yield "-1" if "string" in kinds else -1
        if "integer" in kinds:
            yield from BAD_IDS[::2]
            yield "1"
    if "string" in kinds:
        yield "a\x00b"
    if "boolean" in kinds:
        yield "maybe"
    if kinds & {"array", "object"}:
        yield "not a container"
    yield {"wrong": "type"} if "object" not in kinds else ["wrong type"]


def mutations(document: dict[str, Any], schema: dict[str, Any], base: Any,
              where: str = "") -> Iterator[tuple[str, Any]]:
    """(where, body) for each bad value in each place of ``base`` the schema describes."""
    schema = resolved(document, schema)
    for value in bad_values(schema):
        yield where or "body", value
    if isinstance(base, dict):
        for name, sub in schema.get("properties", {}).items():
            inner = base.get(name, plausible(document, sub))
            for place, value in mutations(document, sub, inner, f"{where}.{name}"):
                yield place, {**base, name: value}
    elif isinstance(base, list) and base:
        for place, value in mutations(document, schema.get("items", {}), base[0],
                                      f"{where}[0]"):
            yield place, [value, *base[1:]]


def each_operation(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def bad_requests(document: dict[str, Any], path: str, operation: dict[str, Any]
                 ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(what, url, httpx arguments) of each bad request for one operation."""
    parameters = operation.get("parameters", [])
    in_path = {p["name"]: resolved(document, p["schema"]) for p in parameters
               if p["in"] == "path"}
    good_path = {name: UNUSED_ID if "integer" in types_of(schema) else "web"
                 for name, schema in in_path.items()}

    def url(values: dict[str, Any]) -> str:
        return path.format(**{name: str(value) for name, value in values.items()})

    for name, schema in in_path.items():
        values = [*BAD_IDS, -1, "1.5", "NaN"] if "integer" in types_of(schema) \
            else ["%00", "a%00b"]
        for value in values:
            yield f"path {name}={value}", url({**good_path, name: value}), {}
    for parameter in parameters:
        schema = resolved(document, parameter["schema"])
        if parameter["in"] != "query" or not (is_number(schema) or "boolean" in types_of(schema)
                                               or schema.get("format") == "date-time"):
            continue
        for value in [*BAD_NUMBERS, "a\x00b", "maybe", str(2 ** 63)]:
            yield (f"query {parameter['name']}={value!r}", url(good_path),
                   {"params": {parameter["name"]: value}})
    body = operation.get("requestBody")
    if body is None:
        return
    schema = body["content"]["application/json"]["schema"]
    base = plausible(document, schema)
    json_headers = {"Content-Type": "application/json"}
    for raw in (b"{", DEEP.encode(), b'{"a": "\\u0000"}', b"null", b"[]", b'"text"'):
        yield f"body {raw[:20]!r}", url(good_path), {"content": raw, "headers": json_headers}
    for where, value in mutations(document, schema, base):
        try:
            text = json.dumps(value, allow_nan=True)
        except (RecursionError, ValueError):
            continue
        yield f"body {where}={text[:80]}", url(good_path), {"content": text.encode(),
                                                           "headers": json_headers}


def test_every_operation_answers_bad_input_with_a_4xx_problem_and_changes_nothing(
        full_client, full_document, full_kernel):
    failures: list[str] = []
    sent = 0
    fingerprint = database_fingerprint(full_kernel)
    start = fingerprint()
    for path, method, operation in each_operation(full_document):
        requests = list(bad_requests(full_document, path, operation))
        if not requests:
            continue
        writes = method != "get"  # a GET's fingerprint is taken with the next write's
        before = fingerprint() if writes else None
        for what, url, arguments in requests:
            sent += 1
            response = full_client.request(method.upper(), url, **arguments)
            content_type = response.headers.get("content-type", "")
            if not (400 <= response.status_code < 500
                    and content_type.startswith("application/problem+json")):
                failures.append(f"{method.upper()} {path} {what}: {response.status_code}"
                                f" {content_type} {response.text[:160]}")
        if not writes:
            continue
        after = fingerprint()
        changed = sorted(name for name in after if after[name] != before.get(name))
        if changed:
            failures.append(f"{method.upper()} {path}: bad input changed tables {changed}")
    assert sent > 1000, sent
    if fingerprint() != start and not any("changed" in f for f in failures):
        failures.append("a GET with bad input changed the database")
    assert not failures, f"{len(failures)} bad requests were not refused cleanly:\n" + \
        "\n".join(failures[:200])
