"""The reports plugin's settings, read from the environment.

``ERP_REPORTS_TIME_ZONE`` is the company's time zone, in which days, weeks and months are
counted unless a query asks for another (default ``UTC``); ``ERP_REPORTS_CURRENCY`` the
company's currency, the one money is reported in unless a query asks for another
(default ``EUR``; amounts in other currencies are converted at the kernel's exchange
rates, and a missing rate is a 422).
``ERP_REPORTS_DATABASE_URL`` a read replica to run reports on, keeping heavy reads off
the primary (default: the kernel's database). ``ERP_REPORTS_EXPORT_DIR`` where the
worker writes long exports (default ``exports`` in the working directory).
``ERP_REPORTS_XLSX_ROW_LIMIT`` the most rows an XLSX export holds (default and at most
the format's 1,048,575 below the header). ``ERP_REPORTS_SESSION_HOURS`` how long a
dashboard sign-in lasts (default 8).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs

from erp_sdk import ValidationError

XLSX_MAX_ROWS = 1_048_576 - 1
"""Excel's rows per sheet, less the header row."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a ``ValidationError`` naming it."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValidationError(f"unknown time zone {name!r}: use an IANA name such as"
                              " 'Europe/Paris' or 'Asia/Shanghai'") from None


@attrs.frozen
class ReportSettings:
    time_zone: str = "UTC"
    currency: str = "EUR"
    database_url: str | None = None
    export_dir: Path = Path("exports")
    xlsx_row_limit: int = XLSX_MAX_ROWS
    session_hours: float = 8.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReportSettings:
        env = os.environ if environ is None else environ
        limit = int(env.get("ERP_REPORTS_XLSX_ROW_LIMIT") or XLSX_MAX_ROWS)
        return cls(time_zone=env.get("ERP_REPORTS_TIME_ZONE") or "UTC",
                   currency=(env.get("ERP_REPORTS_CURRENCY") or "EUR").upper(),
                   database_url=env.get("ERP_REPORTS_DATABASE_URL") or None,
                   export_dir=Path(env.get("ERP_REPORTS_EXPORT_DIR") or "exports"),
                   xlsx_row_limit=max(1, min(limit, XLSX_MAX_ROWS)),
                   session_hours=float(env.get("ERP_REPORTS_SESSION_HOURS") or 8))
