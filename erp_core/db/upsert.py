"""INSERT ... ON CONFLICT statements, which SQLAlchemy only spells per dialect.

``ON CONFLICT`` lives in ``sqlalchemy.dialects.postgresql.insert`` and
``sqlalchemy.dialects.sqlite.insert``, not in ``sa.insert``. A plugin builds such a
statement once for each database the kernel runs on, at import like its other prebuilt
statements, and picks the one of the session's database when it runs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

_Statement = TypeVar("_Statement")

SUPPORTED = ("postgresql", "sqlite")


class Upsert(Generic[_Statement]):
    """One statement for each database the kernel supports, from ``build(insert)``, where
    ``insert`` is that dialect's ``insert`` (the one with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update``). Each is built once, when first used on its database, so
    defining one at import costs nothing.

    ``Upsert(lambda insert: insert(table).on_conflict_do_nothing())``, then
    ``session.execute(upsert.on(session), values)``.
    """

    def __init__(self, build: Callable[[Callable[..., Any]], _Statement]) -> None:
        self._build = build
        self._by_dialect: dict[str, _Statement] = {}

    def on(self, session: Session | sa.Connection) -> _Statement:
        """The statement for the database ``session`` is bound to."""
        bind = session.get_bind() if isinstance(session, Session) else session
        name = bind.dialect.name
        statement = self._by_dialect.get(name)
        if statement is None:
            if name not in SUPPORTED:
                raise NotImplementedError(f"no upsert for {name}; supported: {SUPPORTED}")
            insert = importlib.import_module(f"sqlalchemy.dialects.{name}").insert
            statement = self._by_dialect[name] = self._build(insert)
        return statement
