"""Schemathesis over every operation of the API with every plugin enabled.

Money, quantities and rates travel as decimal strings (``format: decimal`` and the like);
schemathesis is taught those formats, with the values that break careless code among them
(NaN, Infinity, 1e400, 30 digits, 26 decimals, negatives), so it sends them wherever the
document says a decimal goes. Every answer must be below 500 and match the document.
The run is bounded (``EXAMPLES`` per operation and mode) to keep the suite's time small.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from first_party_api import *  # noqa: F403  (the app with every plugin)
from first_party_api import OPENAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DECIMAL_FORMATS = ("decimal", "money", "quantity", "rate")
TRICKY_DECIMALS = ["NaN", "Infinity", "-Infinity", "1e400", "123456789012345678901234567890",
                   "0.00000000000000000000000001", "-1", "-0.01", "0", "1.5", "12.50"]
EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def decimal_strings() -> st.SearchStrategy[str]:
    plain = st.decimals(allow_nan=False, allow_infinity=False, places=4,
                        min_value=-10 ** 9, max_value=10 ** 9).map(lambda d: f"{d:f}")
    return st.one_of(st.sampled_from(TRICKY_DECIMALS), plain)


@pytest.fixture
def full_api_schema(full_app: Any, full_admin_headers: dict[str, str]) -> Any:
    for name in DECIMAL_FORMATS:
        schemathesis.openapi.format(name, decimal_strings())
    return schemathesis.openapi.from_asgi(OPENAPI, full_app, headers=dict(full_admin_headers))


@pytest.mark.slow
def test_generated_requests_to_every_operation_get_no_5xx_and_documented_answers(
        full_api_schema, full_admin_headers):
    failures = []
    for result in full_api_schema.get_all_operations():
        operation = result.ok()
        if "/logistics/" not in operation.path and "/hooks/" not in operation.path:
            continue
        has_inputs = any(operation.iter_parameters()) or bool(operation.body)
        for mode in [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if has_inputs else [])]:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            def answers_as_documented(case: Any) -> None:
                case.call_and_validate(headers=dict(full_admin_headers), checks=CHECKS)

            try:
                answers_as_documented()
            except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
                failures.append(f"{operation.label} ({mode.value} data): {str(exc)[:600]}")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
