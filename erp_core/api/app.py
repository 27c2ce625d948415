"""Building the Litestar app from a booted kernel."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from litestar import Litestar, Router
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from erp_core.api.auth import ROUTE_DECLARATIONS, current_principal, require_token
from erp_core.api.entity_routes import PROBLEM_SCHEMA, EntityOpenAPI, entity_router
from erp_core.api.idempotent_posts import IdempotentPosts
from erp_core.api.inbound_hooks import INBOUND_ROUTES, LIMITER_STATE_KEY
from erp_core.api.index import API_PREFIX, INDEX_ROUTES
from erp_core.api.openapi_statuses import complete_statuses
from erp_core.api.problems import EXCEPTION_HANDLERS
from erp_core.api.reference import SCHEMA_PATH, OfflineRedoc, reference_assets_router
from erp_core.api.request_body import ErpRequest, check_request_input
from erp_core.api.request_ids import stamp_response_headers
from erp_core.api.retry import RetryTransient
from erp_core.api.system import SYSTEM_ROUTES
from erp_core.api.telemetry import RequestTelemetry
from erp_core.api.webhooks import replay_webhook
from erp_core.errors import PluginError
from erp_core.inbound.limits import RateLimiter
from erp_core.kernel import Kernel

__all__ = ["API_PREFIX", "create_app"]


def create_app(kernel: Kernel, *, close_kernel_on_shutdown: bool = False) -> Litestar:
    """The app for ``kernel`` (booted first if it is not): kernel routes plus every enabled
    plugin's routes under ``/api/v1/<plugin>``, and its web pages where they say; the
    reference page under ``/schema``, the OpenAPI document at ``/schema/openapi.json``,
    and links to both at ``/``."""
    if kernel.pm is None:
        kernel.boot()
    handlers: list[Any] = [*SYSTEM_ROUTES, *INDEX_ROUTES, *INBOUND_ROUTES,
                           reference_assets_router(), replay_webhook]
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    attempts = kernel.settings.transaction_attempts
    for entity in kernel.entities:
        handlers.append(entity_router(entity, API_PREFIX))
        components.update(EntityOpenAPI(entity).components())
    for plugin, routes in kernel.contribute("erp_register_routes"):
        if routes:
            handlers.append(Router(path=f"{API_PREFIX}/{plugin}", route_handlers=list(routes),
                                   tags=[plugin]))
    page_owners: dict[Any, str] = {}
    for plugin, pages in kernel.contribute("erp_register_pages"):
        if pages:
            handlers.append(Router(path="/", route_handlers=list(pages),
                                   include_in_schema=False))
            page_owners.update((function, plugin) for function in _functions_of(pages))
    app = Litestar(
        route_handlers=handlers,
        guards=[require_token, check_request_input],
        dependencies={"kernel": Provide(lambda: kernel, use_cache=True, sync_to_thread=False),
                      "principal": Provide(current_principal, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[RequestTelemetry, IdempotentPosts,
                    *([DefineMiddleware(RetryTransient, attempts=attempts)] if attempts > 1
                      else [])],
        request_class=ErpRequest,
        before_send=[stamp_response_headers],
        openapi_config=OpenAPIConfig(
            title="ERP API", version=kernel.version, path=SCHEMA_PATH,
            render_plugins=[OfflineRedoc()],
            components=Components(schemas=components, security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="An API token from `erp tokens create`")}),
            security=[{"bearer": []}]),
        on_shutdown=[kernel.close] if close_kernel_on_shutdown else [],
        state=State({"kernel": kernel, LIMITER_STATE_KEY: RateLimiter(
            kernel.settings.webhook_rate, kernel.settings.webhook_burst)}),
        debug=False,
        # logging is the process's to configure (erp_core.logs), not the web framework's:
        # Litestar's default would send every INFO record, the access log's included, out
        logging_config=None,
    )
    _check_route_declarations(app, page_owners)
    # Litestar fills components/schemas from its own schema registry only, dropping the
    # configured entity schemas that the generated operations refer to; put them back.
    documents = app.plugins.get(OpenAPIPlugin)
    openapi = documents.provide_openapi()
    openapi.components.schemas = dict(sorted({**components,
                                              **(openapi.components.schemas or {})}.items()))
    complete_statuses(app, documents.provide_openapi_schema())
    return app


def _functions_of(handlers: Any) -> Iterator[Any]:
    """The functions behind route handlers, routers included."""
    for handler in handlers:
        if isinstance(handler, Router):
            yield from _functions_of(handler.route_handlers)
        else:
            yield getattr(handler, "fn", handler)


def _check_route_declarations(app: Litestar, page_owners: Mapping[Any, str]) -> None:
    """Every plugin route and page must declare what it needs (see ``erp_core.api.auth``);
    a route is named by its plugin from its path, a page (at a path of its own choosing)
    by the plugin that contributed it."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if route.path.startswith("/schema") or handler.http_methods <= {"OPTIONS", "HEAD"}:
                continue
            if not any(key in handler.opt for key in ROUTE_DECLARATIONS):
                plugin = page_owners.get(handler.fn) or \
                    route.path.removeprefix(API_PREFIX + "/").partition("/")[0]
                raise PluginError(
                    f"plugin {plugin!r}: route {route.path} declares no permission; add"
                    " opt={'permission': '<plugin>.<...>'}, opt={'authenticated': True} or"
                    " opt={'public': True} to its handler", plugin=plugin)
