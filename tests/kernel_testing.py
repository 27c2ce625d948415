"""Constants and helpers the kernel's tests import by name.

They live here rather than in ``conftest.py`` because several test folders (the kernel's
and each plugin's) have a ``conftest.py``; importing one by name would find whichever
came first on ``sys.path``.
"""

from __future__ import annotations

import os
from pathlib import Path

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
PG_URL = os.environ.get("ERP_TEST_DATABASE_URL")


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
