"""Enabling and disabling plugins per database: dependencies, refusals, data kept."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_core.errors import PluginError
from erp_core.kernel import Kernel


@pytest.fixture(autouse=True)
def test_plugins(use_plugins: Callable[..., None]) -> None:
    use_plugins("alpha", "beta", "faulty")


@pytest.fixture
def alpha_item() -> type:
    """The model of plugin alpha's table ``alpha_item``."""
    from erp_test_alpha.models import AlphaItem

    return AlphaItem


def table_names(kernel: Kernel) -> set[str]:
    return set(sa.inspect(kernel.engine).get_table_names())


def add_alpha_item(kernel: Kernel, alpha_item: type, name: str = "widget") -> None:
    with kernel.transaction() as session:
        session.add(alpha_item(name=name, price=Decimal("12.3456")))


def alpha_item_names(kernel: Kernel, alpha_item: type) -> list[str]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(alpha_item.name).order_by(alpha_item.name)))


def test_enabling_a_plugin_enables_its_dependencies_first_and_migrates_both(kernel):
    assert kernel.enable(["beta"]) == ["alpha", "beta"]
    assert kernel.enabled_names() == ["alpha", "beta"]
    assert {"alpha_item", "beta_note"} <= table_names(kernel)


def test_enablement_is_stored_in_the_database(kernel, make_kernel):
    kernel.enable(["beta"])
    other = make_kernel().boot()
    assert other.enabled == ("alpha", "beta")


def test_disabling_a_plugin_another_enabled_plugin_depends_on_is_refused_naming_it(kernel):
    kernel.enable(["beta"])
    with pytest.raises(PluginError, match=r"cannot disable 'alpha': enabled plugin 'beta'"
                                          r" depends on it"):
        kernel.disable(["alpha"])
    assert kernel.enabled_names() == ["alpha", "beta"]


def test_disabling_a_plugin_together_with_its_dependents_is_allowed(kernel):
    kernel.enable(["beta"])
    kernel.disable(["alpha", "beta"])
    assert kernel.enabled_names() == []


def test_disabling_a_plugin_keeps_its_tables_and_data(kernel, alpha_item):
    kernel.enable(["alpha"])
    add_alpha_item(kernel, alpha_item)
    kernel.disable(["alpha"])
    assert kernel.enabled_names() == []
    assert "alpha_item" in table_names(kernel)
    assert alpha_item_names(kernel, alpha_item) == ["widget"]


def test_enabling_a_plugin_again_finds_its_data(kernel, alpha_item):
    kernel.enable(["alpha"])
    add_alpha_item(kernel, alpha_item)
    kernel.disable(["alpha"])
    kernel.enable(["alpha"])
    with kernel.transaction() as session:
        item = session.scalars(sa.select(alpha_item)).one()
    assert (item.name, item.price) == ("widget", Decimal("12.3456"))


def test_a_failing_migration_enables_nothing_and_creates_no_table(kernel):
    with pytest.raises(PluginError, match=r"migrations of 'faulty' failed: faulty migration"
                                          r" fails on purpose"):
        kernel.enable(["faulty"])
    assert kernel.enabled_names() == []
    assert table_names(kernel).isdisjoint(
        {"alpha_item", "faulty_thing", "alembic_version_alpha", "alembic_version_faulty"})


def test_a_failing_migration_leaves_enabled_plugins_as_they_were(kernel, alpha_item):
    kernel.enable(["alpha"])
    add_alpha_item(kernel, alpha_item)
    with pytest.raises(PluginError, match="faulty"):
        kernel.enable(["faulty"])
    assert kernel.enabled_names() == ["alpha"]
    assert alpha_item_names(kernel, alpha_item) == ["widget"]
    assert "faulty_thing" not in table_names(kernel)


def test_disabling_a_plugin_that_is_not_enabled_is_an_error(kernel):
    kernel.enable(["alpha"])
    with pytest.raises(PluginError, match=r"plugin 'beta' is not enabled in this database"):
        kernel.disable(["beta"])
    assert kernel.enabled_names() == ["alpha"]


def test_enabling_an_already_enabled_plugin_is_harmless(kernel, alpha_item):
    kernel.enable(["alpha"])
    add_alpha_item(kernel, alpha_item)
    assert kernel.enable(["alpha"]) == []
    assert kernel.enabled_names() == ["alpha"]
    assert alpha_item_names(kernel, alpha_item) == ["widget"]


def test_a_booted_kernel_sees_newly_enabled_plugins_at_once(kernel):
    kernel.boot()
    assert kernel.enabled == ()
    kernel.enable(["beta"])
    assert kernel.enabled == ("alpha", "beta")
    assert kernel.hook.erp_alpha_extra_names() == [["beta"]]


def test_a_booted_kernel_stops_using_a_disabled_plugin_at_once(kernel):
    kernel.enable(["beta"])
    kernel.boot()
    kernel.disable(["beta"])
    assert kernel.enabled == ("alpha",)
    assert kernel.hook.erp_alpha_extra_names() == []


def test_enabling_a_plugin_with_an_invalid_hook_implementation_enables_nothing(
        use_plugins, kernel):
    use_plugins("badhook")
    with pytest.raises(PluginError, match="erp_regster_routes"):
        kernel.enable(["badhook"])
    assert kernel.enabled_names() == []
