"""The check that a plugin's migrations create exactly the schema its models declare.

A plugin's models (SQLAlchemy) and its migrations (Alembic) describe the same tables
twice; nothing but this check keeps them in step. Every plugin's tests call
``assert_migrations_match_models(kernel, "<plugin>")`` on a fresh database, once on
SQLite and once on PostgreSQL: the migrations run from scratch, as they do when a seller
enables the plugin, and Alembic's autogenerate compares the result with the models.

Only the tables the plugin owns are compared (``Branch.owns_table``): the tables of its
dependencies were made by their own migrations and are checked by their own tests.
Column types are compared as the database stores them, so the kernel's
``TypeDecorator``s (``ExactNumeric``, ``AwareDateTime``) match the column they create on
each database. Server defaults are not compared: Alembic's comparison of rendered
defaults is unreliable across databases and reports differences that are not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from erp_core.db.base import metadata
from erp_core.kernel import KERNEL_BRANCH, Kernel


@attrs.frozen
class SchemaDifference:
    """One way the migrated database differs from the models.

    ``kind`` is Alembic's name for the change autogenerate would make to the database
    (``add_column`` means the models have a column the migrations do not create);
    ``directive`` is Alembic's raw diff, for callers that want every detail.
    """

    kind: str
    table: str
    column: str | None
    description: str
    directive: Any = attrs.field(eq=False, repr=False)

    def __str__(self) -> str:
        return self.description


@contextmanager
def migrated_schema(kernel: Kernel, plugin_name: str) -> Iterator[MigrationContext]:
    """Enable ``plugin_name`` (or initialise, for ``"kernel"``) and yield an Alembic
    context that compares the plugin's tables, as its migrations made them, with its
    models (``compare_metadata``, ``produce_migrations``)."""
    if plugin_name == KERNEL_BRANCH:
        kernel.initialise()
    else:
        kernel.enable([plugin_name])
    branch = kernel.branch(plugin_name)

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "table" or (name is not None and branch.owns_table(name))

    with kernel.engine.connect() as connection:
        yield MigrationContext.configure(connection, opts={
            "target_metadata": metadata,
            "compare_type": True,
            "include_name": include_name,
            "include_object": branch.include_object,
        })


def _resolvable(source: sa.MetaData) -> sa.MetaData:
    """The tables of ``source`` whose foreign keys all name tables it keeps. A process may
    have imported one model module of a plugin it never enabled (a test module's imports
    do), leaving a foreign key to a table never declared; the comparison, which covers
    one branch's tables, has no use for such a table and could not sort it."""

    def targets(table: sa.Table) -> set[str] | None:
        try:
            return {key.column.table.name for key in table.foreign_keys}
        except sa.exc.NoReferencedTableError:
            return None

    named = {table.name: targets(table) for table in source.tables.values()}
    kept = {name for name, refers in named.items() if refers is not None}
    while dropped := {name for name in kept if not named[name] <= kept}:  # type: ignore[operator]
        kept -= dropped
    if len(kept) == len(source.tables):
        return source
    comparable = sa.MetaData(naming_convention=source.naming_convention)
    for table in source.tables.values():
        if table.name in kept:
            table.to_metadata(comparable)
    return comparable


def migration_differences(kernel: Kernel, plugin_name: str) -> list[SchemaDifference]:
    """Enable ``plugin_name`` (or initialise, for ``"kernel"``) and compare its tables.

    Enabling runs the migrations of the plugin and of its dependencies; the schema they
    produce is then compared with the plugin's models. Call it on a fresh database, so the
    schema comes from the migrations alone. Returns the differences (empty when the
    migrations match the models); raises ``PluginError`` when the plugin is not installed,
    is broken, or its migrations fail.
    """
    with migrated_schema(kernel, plugin_name) as context:
        directives = compare_metadata(context, _resolvable(metadata))
        return [_difference(item, context.dialect)
                for directive in directives
                for item in (directive if isinstance(directive, list) else [directive])]


def assert_migrations_match_models(kernel: Kernel, plugin_name: str) -> None:
    """Raise ``AssertionError`` listing every difference between migrations and models."""
    differences = migration_differences(kernel, plugin_name)
    if differences:
        lines = "\n".join(f"  - {difference}" for difference in differences)
        raise AssertionError(
            f"the migrations of {plugin_name!r} do not create the schema its models declare"
            f" on {kernel.engine.dialect.name}; for each difference, add a migration or fix"
            f" the model:\n{lines}")


def _columns(names: Sequence[Any]) -> str:
    return ", ".join(str(getattr(column, "name", column)) for column in names)


def _type(type_: Any, dialect: sa.Dialect) -> str:
    """The type as the database spells it, and as the model does when they differ."""
    try:
        stored = str(type_.compile(dialect=dialect))
    except sa.exc.CompileError:
        return repr(type_)
    return f"{stored} ({type_!r})" if isinstance(type_, sa.types.TypeDecorator) else stored


def _difference(directive: tuple[Any, ...], dialect: sa.Dialect) -> SchemaDifference:
    kind = directive[0]
    only_modelled = "the models declare it, the migrations do not create it"
    only_migrated = "the migrations create it, the models do not declare it"

    def found(table: str, column: str | None, text: str) -> SchemaDifference:
        return SchemaDifference(kind, table, column, text, directive)

    if kind in ("add_table", "remove_table"):
        table = directive[1]
        why = only_modelled if kind == "add_table" else (
            f"{only_migrated} (is the module defining its model imported by the plugin?)")
        return found(table.name, None, f"table {table.name}: {why}")
    if kind in ("add_column", "remove_column"):
        table, column = directive[2], directive[3]
        why = only_modelled if kind == "add_column" else only_migrated
        return found(table, column.name, f"column {table}.{column.name}: {why}")
    if kind == "modify_type":
        table, column, migrated, modelled = directive[2], directive[3], directive[5], directive[6]
        return found(table, column, (
            f"column {table}.{column}: the migrations make it {_type(migrated, dialect)},"
            f" the models declare {_type(modelled, dialect)}"))
    if kind == "modify_nullable":
        table, column, migrated, modelled = directive[2], directive[3], directive[5], directive[6]

        def null(nullable: bool) -> str:
            return "NULL" if nullable else "NOT NULL"

        return found(table, column, (
            f"column {table}.{column}: the migrations make it {null(migrated)},"
            f" the models declare {null(modelled)}"))
    if kind.startswith("modify_"):
        table, column = directive[2], directive[3]
        what = kind.removeprefix("modify_").replace("_", " ")
        return found(table, column, (
            f"column {table}.{column}: {what} differs: the migrations make it"
            f" {directive[5]!r}, the models declare {directive[6]!r}"))
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint",
                "add_fk", "remove_fk"):
        item = directive[1]
        why = only_modelled if kind.startswith("add_") else only_migrated
        label = "foreign key" if kind.endswith("_fk") else "unique constraint"
        if kind.endswith("_index"):
            label = "unique index" if item.unique else "index"
        target = ""
        if kind.endswith("_fk"):
            target = " -> " + ", ".join(element.target_fullname for element in item.elements)
            columns = _columns(item.column_keys)
        else:
            columns = _columns(list(item.columns))
        return found(item.table.name, None, (
            f"{label} {item.name or '(unnamed)'} on {item.table.name}({columns}){target}:"
            f" {why}"))
    table = getattr(directive[1], "name", None) or getattr(
        getattr(directive[1], "table", None), "name", "?")
    return found(str(table), None, f"{kind.replace('_', ' ')}: {directive[1:]!r}")
