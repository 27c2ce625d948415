"""The dashboard's pages, served by the server under ``/dashboard`` and drawn there.

Sign-in exchanges a user's API token for a session of its own (``erp_sdk.WebSessions``)
kept in an HttpOnly, SameSite=Strict cookie scoped to ``/dashboard``; every form that
changes something (sign-in, sign-out) carries a CSRF token: before sign-in one
double-submitted with a cookie, after it one derived from the session. A session ends at
sign-out or after ``ERP_REPORTS_SESSION_HOURS``. Every figure is a report run as the
signed-in user, so its permissions and record rules hold on the page as in the API. The
pages need nothing from outside the server: the charting library is served from
``/dashboard/static``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from erp_reports.api import export_response
from erp_reports.export_jobs import ExportFormat
from erp_reports.i18n import LANGUAGES, NAMES, Speaker, choose_language
from erp_reports.query import FilterRequest, report_stream, run_report
from erp_reports.records import records_behind
from erp_reports.saved_reports import report_request
from erp_reports.settings import ReportSettings, zone
from erp_reports.tiles import Period, breakdowns, channels, default_period, figures, headline
from erp_sdk import (
    AuthenticationRequired,
    ErpError,
    Kernel,
    KernelDependency,
    NotFoundError,
    WebSessions,
)

ROOT = "/dashboard"
SESSION_COOKIE = "erp_dashboard_session"
SIGN_IN_COOKIE = "erp_dashboard_sign_in"
LANGUAGE_COOKIE = "erp_dashboard_lang"
PAGE = {"public": True}  # the pages check their own session (see the module's docstring)
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:;"
                                      " style-src 'self'; script-src 'self';"
                                      " form-action 'self'; frame-ancestors 'none'",
           "Referrer-Policy": "same-origin"}
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".md": "text/plain; charset=utf-8"}


@cache
def templates() -> Environment:
    return Environment(loader=PackageLoader("erp_reports", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def _speaker(request: Request[Any, Any, Any], settings: ReportSettings) -> Speaker:
    language = choose_language(request.query_params.get("lang"),
                               request.cookies.get(LANGUAGE_COOKIE),
                               request.headers.get("accept-language"))
    return Speaker(language, settings.currency, zone(settings.time_zone))


def _cookie(name: str, value: str, max_age: int | None, request: Request[Any, Any, Any],
            *, httponly: bool = True) -> Cookie:
    return Cookie(key=name, value=value, max_age=max_age, path=ROOT, httponly=httponly,
                  samesite="strict", secure=request.url.scheme == "https")


def _page(request: Request[Any, Any, Any], speak: Speaker, template: str,
          cookies: list[Cookie] | None = None, status: int = 200, **context: Any) -> Response:
    def link(path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{ROOT}{path}" + (f"?{urlencode(query)}" if query else "")

    here = dict(request.query_params)
    switches = [(code, NAMES[code], link(request.url.path.removeprefix(ROOT),
                                        **{**here, "lang": code}))
                for code in LANGUAGES]
    body = templates().get_template(template).render(
        t=speak, link=link, languages=switches, root=ROOT, **context)
    cookies = list(cookies or [])
    if request.query_params.get("lang") in LANGUAGES:
        cookies.append(_cookie(LANGUAGE_COOKIE, speak.language, 365 * 24 * 3600, request))
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers=HEADERS, cookies=cookies)


def _signed_in(kernel: Kernel, request: Request[Any, Any, Any]) -> Any:
    return WebSessions(kernel).resume(request.cookies.get(SESSION_COOKIE))


def _to_sign_in(request: Request[Any, Any, Any], expired: bool = False) -> Redirect:
    response = Redirect(f"{ROOT}/sign-in" + ("?expired=1" if expired else ""))
    if request.cookies.get(SESSION_COOKIE):
        response.cookies.append(_cookie(SESSION_COOKIE, "", 0, request))
    return response


def with_session(render: Callable[..., Response]) -> Callable[..., Response | Redirect]:
    """Run a page for the signed-in user, or send the visitor to the sign-in page."""
    def page(kernel: Kernel, request: Request[Any, Any, Any], **kwargs: Any
             ) -> Response | Redirect:
        try:
            session = _signed_in(kernel, request)
        except AuthenticationRequired:
            return _to_sign_in(request, expired=bool(request.cookies.get(SESSION_COOKIE)))
        settings = ReportSettings.from_env()
        speak = _speaker(request, settings)
        return render(kernel, request, session, settings, speak, **kwargs)
    return page


def _period(request: Request[Any, Any, Any], settings: ReportSettings) -> Period:
    default = default_period(settings)
    try:
        start = dt.date.fromisoformat(request.query_params.get("from") or "")
    except ValueError:
        start = default.date_from
    try:
        end = dt.date.fromisoformat(request.query_params.get("to") or "")
    except ValueError:
        end = default.date_to
    channel = request.query_params.get("channel")
    return Period(min(start, end), max(start, end),
                  int(channel) if channel and channel.isdigit() else None)


@get(f"{ROOT}/sign-in", sync_to_thread=True, opt=PAGE, include_in_schema=False)
def sign_in_page(request: Request[Any, Any, Any], kernel: KernelDependency) -> Response:
    settings = ReportSettings.from_env()
    speak = _speaker(request, settings)
    token = secrets.token_urlsafe(24)
    message = speak("session_expired") if request.query_params.get("expired") else None
    return _page(request, speak, "sign_in.html", csrf=token, message=message,
                 cookies=[_cookie(SIGN_IN_COOKIE, token, 3600, request)])


@post(f"{ROOT}/sign-in", sync_to_thread=True, opt=PAGE, include_in_schema=False,
      status_code=303)
def sign_in(request: Request[Any, Any, Any], kernel: KernelDependency,
            data: URLEncodedBody[dict[str, str]]) -> Response | Redirect:
    settings = ReportSettings.from_env()
    speak = _speaker(request, settings)
    expected = request.cookies.get(SIGN_IN_COOKIE) or ""
    given = str(data.get("csrf") or "")
    if not expected or not hmac.compare_digest(expected, given):
        return _page(request, speak, "sign_in.html", status=403, csrf=expected or "",
                     message=speak("bad_form"))
    try:
        session = WebSessions(kernel).open(str(data.get("token") or ""),
                                           dt.timedelta(hours=settings.session_hours))
    except (AuthenticationRequired, ValueError):
        return _page(request, speak, "sign_in.html", status=401, csrf=expected,
                     message=speak("bad_token"))
    lifetime = int((session.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
    response = Redirect(ROOT, status_code=303)
    response.cookies.extend([_cookie(SESSION_COOKIE, session.secret, lifetime, request),
                             _cookie(SIGN_IN_COOKIE, "", 0, request)])
    return response


@post(f"{ROOT}/sign-out", sync_to_thread=True, opt=PAGE, include_in_schema=False,
      status_code=303)
def sign_out(request: Request[Any, Any, Any], kernel: KernelDependency,
             data: URLEncodedBody[dict[str, str]]) -> Redirect:
    try:
        session = _signed_in(kernel, request)
    except AuthenticationRequired:
        return _to_sign_in(request)
    if hmac.compare_digest(session.csrf, str(data.get("csrf") or "")):
        WebSessions(kernel).close(session.secret)
        return _to_sign_in(request)
    return Redirect(ROOT, status_code=303)


def _overview(kernel: Kernel, request: Request[Any, Any, Any], session: Any,
              settings: ReportSettings, speak: Speaker) -> Response:
    principal = session.principal
    period = _period(request, settings)
    tiles = breakdowns(kernel, principal, settings, period)
    charts = {entry["tile"].key: {
        "type": entry["tile"].chart,
        "labels": [row["label"] or _plain(speak, row["key"]) for row in entry["rows"]],
        "values": [float(row["value"] or 0) for row in entry["rows"]],  # drawing only
    } for entry in tiles if entry["tile"].chart}
    return _page(request, speak, "dashboard.html", session=session, period=period,
                 headline=headline(kernel, principal, settings, period), tiles=tiles,
                 figures=figures(kernel, principal, settings, period),
                 channels=channels(kernel, principal, settings, period),
                 saved=_saved_reports(kernel, principal), charts=_script_json(charts),
                 plain=lambda key: _plain(speak, key))


def _plain(speak: Speaker, key: Any) -> str:
    return speak("unnamed") if key is None else str(key)


def _saved_reports(kernel: Kernel, principal: Any) -> list[dict[str, Any]]:
    try:
        with kernel.context(principal) as ctx:
            page = ctx.records("reports.saved_report").list([("sort", "name"), ("limit", "50")])
    except ErpError:
        return []
    return page["items"]


@get(ROOT, sync_to_thread=True, opt=PAGE, include_in_schema=False)
def dashboard(request: Request[Any, Any, Any], kernel: KernelDependency
              ) -> Response | Redirect:
    return with_session(_overview)(kernel, request)


def _drill_down(kernel: Kernel, request: Request[Any, Any, Any], session: Any,
                settings: ReportSettings, speak: Speaker) -> Response:
    period = _period(request, settings)
    metric = request.query_params.get("metric") or ""
    filters = []
    dimension, value = request.query_params.get("dimension"), request.query_params.get("value")
    if dimension and value is not None:
        filters.append(FilterRequest(dimension, (value,)))
    if period.channel is not None and dimension != "channel":
        filters.append(FilterRequest("channel", (str(period.channel),)))
    dated = request.query_params.get("dated") != "0"
    try:
        found = records_behind(kernel, session.principal, settings, metric, tuple(filters),
                               period.date_from if dated else None,
                               period.date_to if dated else None)
    except ErpError as error:
        if filters[1:]:  # the channel does not cut this metric: list without it
            found = records_behind(kernel, session.principal, settings, metric,
                                   tuple(filters[:1]), period.date_from if dated else None,
                                   period.date_to if dated else None)
        else:
            return _page(request, speak, "message.html", status=error.status_code,
                         message=error.message)
    return _page(request, speak, "records.html", session=session, period=period,
                 found=found, label=request.query_params.get("label") or value)


@get(f"{ROOT}/records", sync_to_thread=True, opt=PAGE, include_in_schema=False)
def drill_down(request: Request[Any, Any, Any], kernel: KernelDependency
               ) -> Response | Redirect:
    return with_session(_drill_down)(kernel, request)


def _saved_page(kernel: Kernel, request: Request[Any, Any, Any], session: Any,
                settings: ReportSettings, speak: Speaker, report_id: int) -> Response:
    try:
        with kernel.context(session.principal) as ctx:
            saved = ctx.records("reports.saved_report").get(report_id)
        answer = run_report(kernel, session.principal, report_request(saved["definition"]),
                            settings)
    except ErpError as error:
        return _page(request, speak, "message.html", status=error.status_code,
                     message=error.message)
    rows = answer["rows"][:200]
    keys = [c for c in answer["columns"] if c["kind"] != "metric"]
    metrics = [c for c in answer["columns"] if c["kind"] == "metric"]
    names = [c["name"] for c in keys if c["kind"] != "dimension"
             or not any(k["name"] == c["name"] + "_label" for k in keys)]
    chart = {"type": saved["chart"], "labels": [
        " · ".join(_plain(speak, row.get(name)) for name in names) for row in rows],
        "series": [{"label": m["title"], "values": [float(row[m["name"]] or 0) for row in rows]}
                   for m in metrics]}
    return _page(request, speak, "saved_report.html", session=session, saved=saved,
                 answer=answer, rows=rows, keys=[c for c in keys if c["name"] in names],
                 metrics=metrics, chart=_script_json(chart),
                 more=len(answer["rows"]) > len(rows) or answer["truncated"])


@get(f"{ROOT}/reports/{{report_id:int}}", sync_to_thread=True, opt=PAGE,
     include_in_schema=False)
def saved_report_page(report_id: FromPath[int], request: Request[Any, Any, Any],
                      kernel: KernelDependency) -> Response | Redirect:
    return with_session(_saved_page)(kernel, request, report_id=report_id)


def _saved_export(kernel: Kernel, request: Request[Any, Any, Any], session: Any,
                  settings: ReportSettings, speak: Speaker, report_id: int,
                  export_format: str) -> Any:
    try:
        with kernel.context(session.principal) as ctx:
            saved = ctx.records("reports.saved_report").get(report_id)
        session.principal.require("reports.export")
        stream = report_stream(kernel, session.principal, report_request(saved["definition"]),
                               settings)
    except ErpError as error:
        return _page(request, speak, "message.html", status=error.status_code,
                     message=error.message)
    return export_response(stream, ExportFormat(export_format), f"report-{report_id}",
                           f"{ROOT}/reports/{report_id}/export/csv")


@get(f"{ROOT}/reports/{{report_id:int}}/export/{{export_format:str}}", sync_to_thread=True,
     opt=PAGE, include_in_schema=False)
def saved_report_export(report_id: FromPath[int], export_format: FromPath[str],
                        request: Request[Any, Any, Any], kernel: KernelDependency) -> Any:
    if export_format not in {f.value for f in ExportFormat}:
        raise NotFoundError(f"no export format {export_format!r}")
    return with_session(_saved_export)(kernel, request, report_id=report_id,
                                       export_format=export_format)


@get(f"{ROOT}/static/{{name:str}}", opt=PAGE, include_in_schema=False, sync_to_thread=False)
def static_file(name: FromPath[str]) -> Response:
    """The dashboard's own files: the charting library, its style and script."""
    suffix = name[name.rfind("."):] if "." in name else ""
    folder = resources.files("erp_reports").joinpath("static")
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        raise NotFoundError(f"no file {name!r}")
    target = folder.joinpath(name)
    if not target.is_file():
        raise NotFoundError(f"no file {name!r}")
    return Response(target.read_bytes(), media_type=STATIC_TYPES[suffix],
                    headers={"Cache-Control": "public, max-age=3600"})


PAGES = [sign_in_page, sign_in, sign_out, dashboard, drill_down, saved_report_page,
         saved_report_export, static_file]


def _script_json(value: Any) -> str:
    """JSON to put inside a ``<script>`` element: no ``</script>`` can end it early."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")
