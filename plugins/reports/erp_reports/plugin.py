"""Wiring of the reports plugin: manifest, permissions, routes, jobs, pages, demo data."""

from __future__ import annotations

from erp_sdk import Permission, PluginManifest, Role, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="reports",
    requires_kernel=">=0.1,<1",
    description="Reports from the metrics every plugin defines: query API, saved reports,"
                " CSV and XLSX exports, and a dashboard in English and Chinese",
)


@hookimpl
def erp_register_permissions():
    return [
        Permission("reports.query", "Run reports on the metrics one's permissions allow"),
        Permission("reports.export", "Export reports as CSV or XLSX"),
        Role("reports.viewer", ["reports.query", "reports.export"],
             "Runs and exports reports; each metric still needs its own permission"),
    ]


@hookimpl
def erp_register_routes():
    from erp_reports import api

    return api.ROUTES


@hookimpl
def erp_shutdown(kernel):
    from erp_reports.replica import close_reports_engine

    close_reports_engine(kernel)
