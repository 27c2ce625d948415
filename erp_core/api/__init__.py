"""The HTTP API: a Litestar app built from a booted kernel."""

from erp_core.api.app import create_app

__all__ = ["create_app"]
