"""Wiring of the reports plugin: manifest, entities, permissions, routes, jobs, pages,
demo data."""

from __future__ import annotations

from erp_sdk import Permission, PluginManifest, Role, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="reports",
    requires_kernel=">=0.1,<1",
    description="Reports from the metrics every plugin defines: query API, saved reports,"
                " CSV and XLSX exports, and a dashboard in English and Chinese",
    # the write guards of saved reports; the state of the rollups
    modules=("saved_reports", "rollups"),
)


@hookimpl
def erp_register_entities():
    from erp_reports.export_jobs import EXPORT_JOB
    from erp_reports.saved_reports import SAVED_REPORT

    return [SAVED_REPORT, EXPORT_JOB]


@hookimpl
def erp_register_permissions():
    from erp_reports import export_jobs, saved_reports

    return [
        Permission("reports.query", "Run reports on the metrics one's permissions allow"),
        Permission("reports.export", "Export reports as CSV or XLSX"),
        Permission("reports.saved_report.create", "Save a report (POST /api/v1/reports/saved)"),
        Role("reports.viewer", ["reports.query", "reports.export", "reports.saved_report.*",
                                "reports.export_job.read"],
             "Runs, saves, shares and exports reports; each metric still needs its own"
             " permission"),
        *saved_reports.RULES,
        *export_jobs.RULES,
    ]


@hookimpl
def erp_register_routes():
    from erp_reports import api

    return api.ROUTES


@hookimpl
def erp_register_pages():
    from erp_reports.dashboard import PAGES

    return PAGES


@hookimpl
def erp_register_jobs():
    from erp_reports.export_jobs import JOBS
    from erp_reports.rollups import JOBS as ROLLUP_JOBS

    return [*JOBS, *ROLLUP_JOBS]


@hookimpl
def erp_shutdown(kernel):
    from erp_reports.replica import close_reports_engine

    close_reports_engine(kernel)


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_reports import demo

    demo.load_demo_data(session, kernel)
