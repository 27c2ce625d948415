"""Transient conflicts: the database errors that mean "run the same work again".

PostgreSQL aborts one of two transactions that wait for each other's locks (deadlock)
and, under stricter isolation, one that read what another changed (serialization
failure). Neither says anything about the request: everything was rolled back, and the
same work run again from its start normally succeeds. Such errors are raised as
``TransientConflict`` so that the runners that own a whole unit of work (``Kernel.run``,
each HTTP request) run it again, with a short random pause so that the two transactions
that clashed do not meet again at once, as Odoo and Tryton do.
"""

from __future__ import annotations

import random
from typing import Any

from erp_core.errors import TransientConflict

# deadlock_detected, serialization_failure
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def translate_transient(context: Any) -> TransientConflict | None:
    """SQLAlchemy ``handle_error`` listener: a transient error of the driver becomes a
    ``TransientConflict`` (the driver's error stays its ``__cause__``)."""
    original = context.original_exception
    if getattr(original, "sqlstate", None) not in TRANSIENT_SQLSTATES:
        return None
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    conflict = TransientConflict(
        f"the database stopped this transaction because it clashed with a concurrent one"
        f" ({first_line}); nothing was written, send the same request again")
    conflict.__cause__ = original
    return conflict


def pause_before(attempt: int) -> float:
    """Seconds to wait before running work again after its ``attempt``-th try failed:
    random, growing with the attempts (at most 0.4 s after the fourth)."""
    return random.uniform(0.0, 0.025 * 2 ** min(attempt, 4))
