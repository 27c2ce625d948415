"""Logging set-up: plain text for people, or one JSON object per line for log collectors.

``ERP_LOG_FORMAT=json`` writes each record as JSON with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id`` (when written on behalf of an HTTP
request), the fields a record carries as ``extra`` (the access log's ``method``,
``route``, ``path``, ``status``, ``duration_ms``) and ``exc_info`` for an exception. In
JSON mode the ``erp.access`` logger writes one line per request at INFO.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "erp_request_id", default=None)
"""The id of the HTTP request being handled in this context, if any."""

LOG_FORMAT_VARIABLE = "ERP_LOG_FORMAT"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname, "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            document["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in document:
                document[key] = value
        if record.exc_info:
            document["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def wants_json() -> bool:
    return os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json"


def configure_logging(verbose: bool = False) -> None:
    """Configure the root logger once for a command or a server process."""
    level = logging.INFO if verbose else logging.WARNING
    if wants_json():
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
        logging.getLogger("erp.access").setLevel(logging.INFO)
    else:
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
