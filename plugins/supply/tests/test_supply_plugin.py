"""The supply plugin loads, and its migrations create exactly its models."""

import pytest

from erp_sdk.testing import assert_migrations_match_models

pytestmark = pytest.mark.erp_plugins("supply")


def test_the_migrations_create_exactly_the_models(erp_kernel):
    assert "inventory" in erp_kernel.enabled
    assert_migrations_match_models(erp_kernel, "supply")
