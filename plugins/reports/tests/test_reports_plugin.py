"""The reports plugin as installed: its migrations make exactly its models."""

from __future__ import annotations

from erp_sdk.testing import assert_migrations_match_models


def test_the_migrations_of_reports_match_its_models(kernel):
    assert_migrations_match_models(kernel, "reports")
