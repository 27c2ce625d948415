"""Per-plugin migrations, and the check that they create exactly the models' schema."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from kernel_testing import PG_URL

from erp_core.db.types import AwareDateTime, ExactNumeric
from erp_core.errors import ConfigurationError
from erp_core.kernel import Kernel
from erp_core.migrations.check import assert_migrations_match_models, migration_differences

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"


@pytest.fixture(autouse=True)
def test_plugins(use_plugins: Callable[..., None]) -> None:
    use_plugins("alpha", "beta", "drift")


@pytest.fixture
def fresh_kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    """A kernel on an empty database that was never initialised."""
    return make_kernel()


@pytest.fixture
def publish_gamma_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        Callable[[], None]]:
    """Install plugin gamma from a copy; calling the result upgrades the copy to its next
    release, which ships one more revision (as ``pip install -U`` would)."""
    installed = tmp_path / "site-packages"
    shutil.copytree(FIXTURE_PLUGINS / "gamma", installed)
    monkeypatch.syspath_prepend(str(installed))

    def publish() -> None:
        for revision in (installed / "next_release").glob("*.py"):
            shutil.copy(revision, installed / "erp_test_gamma" / "migrations" / "versions")

    yield publish
    for module in [m for m in sys.modules if m.partition(".")[0] == "erp_test_gamma"]:
        del sys.modules[module]


def table_names(kernel: Kernel) -> set[str]:
    return set(sa.inspect(kernel.engine).get_table_names())


def test_the_kernel_migrations_match_its_models(fresh_kernel):
    assert_migrations_match_models(fresh_kernel, "kernel")


@pytest.mark.parametrize("plugin", ["alpha", "beta"])
def test_the_migrations_of_a_plugin_match_its_models(fresh_kernel, plugin):
    assert_migrations_match_models(fresh_kernel, plugin)


def test_custom_column_types_match_the_columns_their_migrations_create(fresh_kernel):
    from erp_test_alpha.models import AlphaItem

    columns = AlphaItem.__table__.c
    assert isinstance(columns.price.type, ExactNumeric)
    assert isinstance(columns.created_at.type, AwareDateTime)
    assert migration_differences(fresh_kernel, "alpha") == []


def test_a_migration_that_does_not_match_its_model_fails_the_check_naming_each_difference(
        fresh_kernel):
    with pytest.raises(AssertionError) as failure:
        assert_migrations_match_models(fresh_kernel, "drift")
    message = str(failure.value)
    assert "the migrations of 'drift' do not create the schema its models declare on" in message
    for difference in [
        "column drift_record.note: the models declare it, the migrations do not create it",
        "column drift_record.legacy_code: the migrations create it, the models do not declare",
        "column drift_record.name: the migrations make it VARCHAR(40), the models declare"
        " VARCHAR(80)",
        "column drift_record.recorded_at: the migrations make it NULL, the models declare"
        " NOT NULL",
    ]:
        assert difference in message


def test_the_differences_name_their_kind_table_and_column(fresh_kernel):
    found = {(d.kind, d.table, d.column) for d in migration_differences(fresh_kernel, "drift")}
    expected = {
        ("add_column", "drift_record", "note"),
        ("remove_column", "drift_record", "legacy_code"),
        ("modify_type", "drift_record", "name"),
        ("modify_nullable", "drift_record", "recorded_at"),
    }
    if PG_URL:  # SQLite stores every exact decimal as a 64-bit integer of the smallest unit
        expected.add(("modify_type", "drift_record", "amount"))
    assert found == expected


def test_a_different_precision_of_a_custom_column_type_is_a_difference(fresh_kernel):
    if not PG_URL:
        pytest.skip("SQLite keeps no decimal precision (integers of the smallest unit):"
                    " only PostgreSQL can show this difference")
    amount = [d for d in migration_differences(fresh_kernel, "drift") if d.column == "amount"]
    assert len(amount) == 1 and amount[0].kind == "modify_type"


def test_the_check_of_a_plugin_ignores_the_tables_of_other_plugins(fresh_kernel):
    fresh_kernel.enable(["drift"])
    assert migration_differences(fresh_kernel, "alpha") == []


def test_enabling_a_plugin_creates_its_tables_and_its_version_table_at_head(kernel):
    kernel.enable(["alpha"])
    assert {"alpha_item", "alembic_version_alpha"} <= table_names(kernel)
    branch = kernel.branch("alpha")
    with kernel.engine.connect() as connection:
        assert kernel.migrator.current(branch, connection) == ("a0001",)
    assert kernel.migrator.heads(branch) == ("a0001",)


def test_each_branch_keeps_its_own_version_table(kernel):
    kernel.enable(["beta"])
    versions = {t for t in table_names(kernel) if t.startswith("alembic_version")}
    assert versions == {"alembic_version_kernel", "alembic_version_alpha",
                        "alembic_version_beta"}


def test_migrate_on_an_uninitialised_database_raises_a_configuration_error(fresh_kernel):
    with pytest.raises(ConfigurationError, match=r"not initialised; run `erp init` first"):
        fresh_kernel.migrate()
    assert not fresh_kernel.is_initialised()


def test_a_freshly_migrated_database_has_no_pending_migrations(kernel):
    kernel.enable(["beta"])
    assert kernel.pending_migrations() == []


def test_a_plugin_upgraded_with_a_new_revision_is_pending_until_migrate_runs_it(
        make_kernel, publish_gamma_release):
    kernel = make_kernel()
    kernel.initialise()
    kernel.enable(["gamma"])
    publish_gamma_release()
    assert kernel.pending_migrations() == ["gamma"]
    assert "gamma" in kernel.migrate()
    assert kernel.pending_migrations() == []
    columns = {c["name"] for c in sa.inspect(kernel.engine).get_columns("gamma_entry")}
    assert columns == {"id", "label"}


def test_the_check_leaves_out_tables_whose_foreign_keys_name_undeclared_tables():
    from erp_core.migrations.check import _resolvable

    declared = sa.MetaData()
    sa.Table("whole", declared, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("dangling", declared, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("gone_id", sa.ForeignKey("never_imported.id")))
    sa.Table("behind", declared, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("dangling_id", sa.ForeignKey("dangling.id")),
             sa.Column("whole_id", sa.ForeignKey("whole.id")))
    comparable = _resolvable(declared)
    assert sorted(comparable.tables) == ["whole"]
    assert [t.name for t in comparable.sorted_tables] == ["whole"]
    complete = sa.MetaData()
    sa.Table("alone", complete, sa.Column("id", sa.Integer, primary_key=True))
    assert _resolvable(complete) is complete


def test_a_migration_may_rebuild_a_table_others_refer_to_but_not_leave_a_dangling_row(
        fresh_kernel):
    """On SQLite a migration runs with foreign keys unenforced, so Alembic's batch mode can
    copy and replace a table other rows refer to; the keys are checked before the commit,
    and a migration that left a row referring to nothing is rolled back whole. On
    PostgreSQL the keys are enforced as always."""
    from erp_core.errors import PluginError
    from erp_core.migrations.runner import schema_transaction

    engine = fresh_kernel.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE fk_parent (id INTEGER PRIMARY KEY, n INTEGER)")
        connection.exec_driver_sql("CREATE TABLE fk_child (id INTEGER PRIMARY KEY,"
                                   " parent_id INTEGER NOT NULL REFERENCES fk_parent (id))")
        connection.exec_driver_sql("INSERT INTO fk_parent VALUES (1, 10), (2, 20)")
        connection.exec_driver_sql("INSERT INTO fk_child VALUES (1, 1), (2, 2)")
    if engine.dialect.name == "sqlite":  # the rebuild that batch mode does
        with schema_transaction(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE fk_copy (id INTEGER PRIMARY KEY, n BIGINT)")
            connection.exec_driver_sql("INSERT INTO fk_copy SELECT id, n * 100 FROM fk_parent")
            connection.exec_driver_sql("DROP TABLE fk_parent")
            connection.exec_driver_sql("ALTER TABLE fk_copy RENAME TO fk_parent")
    with pytest.raises((PluginError, sa.exc.IntegrityError)), \
            schema_transaction(engine) as connection:
        connection.exec_driver_sql("DELETE FROM fk_parent WHERE id = 2")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT id FROM fk_parent ORDER BY id").all() == [
            (1,), (2,)]
        assert connection.exec_driver_sql("SELECT parent_id FROM fk_child ORDER BY id"
                                          ).all() == [(1,), (2,)]
        if engine.dialect.name == "sqlite":  # enforcement is back after the migration
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
