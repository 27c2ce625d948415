"""Pages for people (``erp_register_pages``): served at the paths they declare, outside
the API and its OpenAPI document, guarded like routes, given the kernel."""

from __future__ import annotations

import pytest
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.errors import PluginError
from erp_core.plugins.state import record_enabled


def test_a_plugins_pages_are_served_outside_the_api_and_guarded_like_routes(
        use_plugins, kernel, make_token):
    use_plugins("pages")
    kernel.enable(["pages"])
    kernel.boot()
    staff, other = make_token(kernel, "pages.staff"), make_token(kernel, "kernel.viewer")
    with TestClient(create_app(kernel)) as client:
        hello = client.get("/hello")
        assert hello.status_code == 200
        assert hello.headers["content-type"].startswith("text/html")
        assert f"kernel {kernel.version}" in hello.text
        assert client.get("/backroom").status_code == 401
        assert client.get("/backroom", headers=bearer(other)).status_code == 403
        assert "staff only" in client.get("/backroom", headers=bearer(staff)).text
        paths = client.get("/schema/openapi.json").json()["paths"]
    assert not {"/hello", "/backroom"} & set(paths)
    assert not any(path.startswith("/api/v1/pages") for path in paths)


def test_a_page_that_declares_nothing_stops_the_app_naming_its_plugin(use_plugins, kernel):
    use_plugins("openpage")
    with kernel.engine.begin() as connection:  # enabled as is, whatever `enable` checks
        record_enabled(connection, "openpage", "1.0", True)
    with pytest.raises(PluginError, match="route /wide-open declares no permission") as caught:
        create_app(kernel)
    assert caught.value.plugin == "openpage"
