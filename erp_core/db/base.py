"""The one ``DeclarativeBase`` and ``MetaData`` every plugin's models share.

The naming convention gives every constraint and index a deterministic name, so that
Alembic migrations written on SQLite and PostgreSQL agree and can drop what they create.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Base class of every model; tables are named ``<plugin>_<thing>``."""

    metadata = metadata
