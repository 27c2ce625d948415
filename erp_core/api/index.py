"""``GET /`` and ``GET /api/v1``: where a newcomer to the API starts.

Both answer the same links, without a token: the reference page, the OpenAPI document,
``/health`` and the base path of every enabled plugin, so a client (or a person with
curl) finds the rest from there.
"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency

from erp_core.api.reference import SCHEMA_PATH
from erp_core.kernel import Kernel

API_PREFIX = "/api/v1"


def api_index(kernel: Kernel) -> dict[str, Any]:
    """The links of the index, with one entry per enabled plugin."""
    manifests = {name: plugin.manifest for name, plugin in kernel.plugins.plugins.items()}
    return {
        "name": "ERP API",
        "version": kernel.version,
        "links": {
            "reference": {"href": SCHEMA_PATH, "title": "API reference (HTML)"},
            "openapi": {"href": f"{SCHEMA_PATH}/openapi.json",
                        "title": "OpenAPI 3.1 document"},
            "health": {"href": "/health", "title": "Liveness and database check"},
            "plugins": {"href": f"{API_PREFIX}/plugins",
                        "title": "Installed plugins (needs a token)"},
        },
        "plugins": [{"name": name, "href": f"{API_PREFIX}/{name}",
                     "description": manifest.description if manifest else ""}
                    for name, manifest in sorted((n, manifests.get(n)) for n in kernel.enabled)],
    }


_INDEX = {"sync_to_thread": False, "tags": ["system"], "opt": {"public": True},
          "summary": "Links to the reference, the OpenAPI document, /health and the plugins"}


@get("/", operation_id="index", **_INDEX)  # type: ignore[arg-type]
def root_index(kernel: NamedDependency[Kernel]) -> dict[str, Any]:
    return api_index(kernel)


@get(API_PREFIX, operation_id="api_index", **_INDEX)  # type: ignore[arg-type]
def versioned_index(kernel: NamedDependency[Kernel]) -> dict[str, Any]:
    return api_index(kernel)


INDEX_ROUTES = [root_index, versioned_index]
