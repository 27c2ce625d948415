"""The API reference page (ReDoc) at ``/schema``, served with its script by the server itself.

ReDoc's script ships in the kernel's package data (``reference_assets/``, with its licence)
and is served under ``/schema/assets/``, so the reference renders on a machine without
internet access and loads nothing from another site.
"""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import RedocRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
REDOC_VERSION = "2.5.4"
REDOC_SCRIPT = f"{ASSETS_PATH}/redoc.standalone.js"
ASSETS_DIRECTORY = Path(__file__).with_name("reference_assets")


class OfflineRedoc(RedocRenderPlugin):
    """ReDoc from our own server: no Google fonts, no favicon from a CDN."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/redoc"], js_url=REDOC_SCRIPT, google_fonts=False,
                         favicon="")


def reference_assets_router() -> Router:
    """``/schema/assets/<file>``: the reference page's script and its licences."""
    return create_static_files_router(path=ASSETS_PATH, directories=[ASSETS_DIRECTORY],
                                      opt={"public": True}, include_in_schema=False,
                                      send_as_attachment=False)
