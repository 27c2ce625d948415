"""Running each plugin's Alembic branch against one database.

Every plugin (and the kernel, as the branch ``kernel``) keeps its revisions in
``<package>/migrations/versions`` with its name as branch label, and its own version
table ``alembic_version_<name>``. Keeping the version tables apart means a plugin that
is disabled, uninstalled or broken never blocks the migrations of another: Alembic only
ever resolves the revisions of the branch it is running. Dependencies are migrated
first because plugins are always migrated in dependency order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import sqlalchemy as sa

from erp_core.errors import PluginError

if TYPE_CHECKING:  # Alembic is imported when a migration runs, not when the kernel loads
    from alembic.config import Config

_SCRIPT_LOCATION = str(Path(__file__).parent)


@attrs.frozen
class Branch:
    """One plugin's migrations: its name, the package holding them, and which tables it owns.

    ``others`` are the names of the other known plugins, so that a table
    ``orders_extra_note`` belongs to plugin ``orders_extra`` and not to ``orders``.
    """

    name: str
    package: str | None
    others: frozenset[str] = frozenset()

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    @property
    def versions_path(self) -> Path | None:
        if self.package is None:  # a plugin that is a top-level module has no migrations
            return None
        try:
            path = Path(str(resources.files(self.package) / "migrations" / "versions"))
        except ModuleNotFoundError:
            return None
        return path if path.is_dir() else None

    def owns_table(self, table_name: str) -> bool:
        if not table_name.startswith(f"{self.name}_") or table_name.startswith("alembic_version"):
            return False
        return not any(
            len(other) > len(self.name) and table_name.startswith(f"{other}_")
            for other in self.others
        )

    def include_object(self, obj: object, name: str | None, type_: str,
                       reflected: bool, compare_to: object) -> bool:
        if type_ == "table":
            return bool(name) and self.owns_table(name)  # type: ignore[arg-type]
        table = getattr(obj, "table", None)
        return table is None or self.owns_table(table.name)


@contextmanager
def schema_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction for migrations, committed only with every foreign key still holding.

    SQLite cannot alter a column: Alembic's batch mode copies the table, drops the old one
    and renames the copy, and with foreign keys enforced dropping a table that others
    refer to fails (SQLite's implicit ``DELETE``). So on SQLite enforcement is off for the
    migration (the pragma has no effect inside a transaction, hence before it) and
    ``PRAGMA foreign_key_check`` runs before the commit instead: a migration that leaves a
    row pointing nowhere is rolled back, as an enforced key would have refused it.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        table, row, parent, _ = broken[0]
                        raise PluginError(
                            f"a migration left {len(broken)} row(s) referring to nothing:"
                            f" {table} row {row} refers to a missing {parent} row")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys = ON")


class Migrator:
    """Upgrades branches and reports their state, on connections the caller controls."""

    def _config(self, branch: Branch, connection: sa.Connection) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", _SCRIPT_LOCATION)
        path = branch.versions_path
        config.set_main_option("version_locations", str(path) if path else "")
        config.set_main_option("path_separator", "os")
        config.attributes["branch"] = branch
        config.attributes["connection"] = connection
        return config

    def heads(self, branch: Branch) -> tuple[str, ...]:
        """The head revisions a branch ships (empty when it has no migrations)."""
        if branch.versions_path is None:
            return ()
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self._config(branch, None))  # type: ignore[arg-type]
        return tuple(script.get_heads())

    def current(self, branch: Branch, connection: sa.Connection) -> tuple[str, ...]:
        """The revisions the database is at for this branch (empty when never migrated)."""
        from alembic.runtime.migration import MigrationContext

        context = MigrationContext.configure(
            connection, opts={"version_table": branch.version_table})
        return tuple(context.get_current_heads())

    def is_current(self, branch: Branch, connection: sa.Connection) -> bool:
        return set(self.current(branch, connection)) == set(self.heads(branch))

    def downgrade(self, branch: Branch, connection: sa.Connection, revision: str) -> None:
        """Undo a branch's revisions after ``revision``, the latest first, inside the
        caller's transaction (``schema_transaction``): a database as it was before an
        upgrade, for the tests of a data migration."""
        from alembic import command

        command.downgrade(self._config(branch, connection), revision)

    def upgrade(self, branch: Branch, connection: sa.Connection) -> None:
        """Bring a branch to its head inside the caller's transaction."""
        if branch.versions_path is None:
            return
        from alembic import command

        try:
            command.upgrade(self._config(branch, connection), "heads")
        except Exception as exc:
            raise PluginError(
                f"migrations of {branch.name!r} failed: {exc}. Nothing was changed;"
                f" fix or upgrade the package {branch.package!r} and try again",
                plugin=branch.name,
            ) from exc
