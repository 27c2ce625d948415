"""ASGI entry for servers that import the app themselves (``erp serve --workers N``)."""

from __future__ import annotations

from litestar import Litestar

from erp_core.api.app import create_app
from erp_core.kernel import Kernel
from erp_core.logs import configure_logging


def app_from_environment() -> Litestar:
    """An app on ``ERP_DATABASE_URL``; each server worker process builds its own kernel."""
    configure_logging()
    return create_app(Kernel().boot(), close_kernel_on_shutdown=True)
