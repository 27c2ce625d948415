"""INSERT ... ON CONFLICT statements, which SQLAlchemy only spells per dialect.

``ON CONFLICT`` lives in ``sqlalchemy.dialects.postgresql.insert`` and
``sqlalchemy.dialects.sqlite.insert``, not in ``sa.insert``. The CRM builds such a
statement once for each database it runs on, at import like its other prebuilt
statements, and picks the one of the session's database when it runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_Statement = TypeVar("_Statement")

_INSERTS: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


class Upsert(Generic[_Statement]):
    """One statement built for every dialect from ``build(insert)``, where ``insert`` is
    that dialect's ``insert`` (the one with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update``)."""

    def __init__(self, build: Callable[[Callable[..., Any]], _Statement]) -> None:
        self._by_dialect = {name: build(insert) for name, insert in _INSERTS.items()}

    def on(self, session: Session) -> _Statement:
        """The statement for the database ``session`` is bound to; ``KeyError`` for a
        database the CRM does not run on."""
        return self._by_dialect[session.get_bind().dialect.name]
