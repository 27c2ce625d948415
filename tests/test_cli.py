"""The ``erp`` command, through click's runner and as a real process.

Test plugins come from ``tests/fixtures/plugins`` through real entry points: ``use_plugins``
for in-process runs, ``PYTHONPATH`` for subprocesses. A plugin that breaks after it was
enabled is written to a temporary folder (``fragile_plugin``): one version that imports,
one whose import fails, under the same distribution.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import httpx
import pytest
from click.testing import CliRunner, Result
from kernel_testing import FIXTURE_PLUGINS, bearer

from erp_core.cli import main

API_LINE = re.compile(r"^API: (http://127\.0\.0\.1:(\d+))  reference: \1/schema$")
ADMIN_TOKEN_LINE = re.compile(r"^Admin token: (\S+)$")
STARTUP_TIMEOUT = 30
COMMAND_TIMEOUT = 60
SHUTDOWN_TIMEOUT = 10


@pytest.fixture
def erp(database_url: str) -> Callable[..., Result]:
    """Run ``erp --database-url <this test's database> ARGS...`` in-process."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
        environment = {"ERP_SKIP_BROKEN_PLUGINS": None, "ERP_DATABASE_URL": None, **(env or {})}
        return runner.invoke(main, ["--database-url", database_url, *args], env=environment)

    return run


def enabled_in(make_kernel: Callable[..., object]) -> list[str] | None:
    return make_kernel().enabled_names()


@attrs.frozen
class FragilePlugin:
    """Two installs of distribution ``erp_test_fragile`` (plugin ``fragile``)."""

    working: Path
    broken: Path


@pytest.fixture
def fragile_plugin(tmp_path: Path) -> FragilePlugin:
    """A plugin that can be enabled from ``working`` and then fails to import from ``broken``."""

    def install(folder: str, module: str, source: str) -> Path:
        root = tmp_path / folder
        dist_info = root / "erp_test_fragile-0.1.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: erp_test_fragile\nVersion: 0.1\nSummary: test plugin\n")
        (dist_info / "entry_points.txt").write_text(f"[erp.plugins]\nfragile = {module}\n")
        (root / f"{module}.py").write_text(source)
        return root

    return FragilePlugin(
        working=install("fragile-working", "erp_test_fragile_working",
                        "from erp_sdk import PluginManifest\n\n"
                        "manifest = PluginManifest(name='fragile')\n"),
        broken=install("fragile-broken", "erp_test_fragile_broken",
                       "import erp_test_fragile_lost_dependency  # noqa: F401\n"),
    )


def assert_clean_failure(result: Result, *fragments: str) -> None:
    """Non-zero exit, every fragment in the error message on stderr, no traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.output


# -- database commands -------------------------------------------------------------------


def test_init_creates_the_database(erp, make_kernel):
    assert enabled_in(make_kernel) is None
    result = erp("init")
    assert result.exit_code == 0, result.output
    assert "database ready" in result.stdout
    assert enabled_in(make_kernel) == []


def test_init_on_an_initialised_database_keeps_its_enabled_plugins(erp, use_plugins, make_kernel):
    use_plugins("alpha")
    erp("init")
    erp("plugins", "enable", "alpha")
    result = erp("init")
    assert result.exit_code == 0, result.output
    assert "1 plugin enabled" in result.stdout
    assert enabled_in(make_kernel) == ["alpha"]


def test_migrate_on_an_uninitialised_database_fails_telling_to_run_init(erp):
    assert_clean_failure(erp("migrate"), "not initialised", "erp init")


def test_migrate_brings_the_kernel_and_enabled_plugins_up_to_date(erp, use_plugins):
    use_plugins("alpha", "beta")
    erp("init")
    erp("plugins", "enable", "beta")
    result = erp("migrate")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "up to date: kernel, alpha, beta"


# -- erp plugins ---------------------------------------------------------------------------


def test_plugins_list_json_gives_every_plugin_with_its_facts(erp, use_plugins):
    use_plugins("alpha", "beta", "broken")
    erp("init")
    erp("plugins", "enable", "alpha")
    result = erp("plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    report = {item["name"]: item for item in json.loads(result.stdout)}
    assert {"alpha", "beta", "broken"} <= set(report)
    assert {key: report["beta"][key] for key in
            ("version", "distribution", "depends", "enabled", "broken", "error")} == {
        "version": "1.2", "distribution": "erp_test_beta", "depends": ["alpha"],
        "enabled": False, "broken": False, "error": None}
    assert report["alpha"]["enabled"] is True


def test_plugins_list_json_shows_a_broken_plugin_with_its_error(erp, use_plugins):
    use_plugins("alpha", "broken")
    result = erp("plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    broken = next(item for item in json.loads(result.stdout) if item["name"] == "broken")
    assert broken["broken"] is True
    assert "erp_test_broken" in broken["error"]
    assert "No module named 'erp_test_module_that_does_not_exist'" in broken["error"]


def test_plugins_list_works_on_an_uninitialised_database(erp, use_plugins):
    use_plugins("alpha")
    result = erp("plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {item["name"]: item["enabled"] for item in json.loads(result.stdout)}
    assert listed["alpha"] is False and not any(listed.values())


def test_plugins_list_prints_a_table_with_each_plugins_status(erp, use_plugins):
    use_plugins("alpha", "beta", "broken")
    erp("init")
    erp("plugins", "enable", "alpha")
    result = erp("plugins", "list")
    assert result.exit_code == 0, result.output
    header, *rows = [line.split() for line in result.stdout.splitlines()]
    assert header == ["NAME", "VERSION", "DISTRIBUTION", "STATUS", "DEPENDS"]
    ours = {"alpha", "beta", "broken"}  # first-party plugins may be installed beside them
    assert [row for row in rows if row[0] in ours] == [
        ["alpha", "1.0", "erp_test_alpha", "enabled", "-"],
        ["beta", "1.2", "erp_test_beta", "available", "alpha"],
        ["broken", "0.1", "erp_test_broken", "broken", "-"],
    ]


def test_plugins_list_prints_a_broken_plugins_error_on_stderr(erp, use_plugins):
    use_plugins("broken")
    result = erp("plugins", "list")
    assert result.exit_code == 0, result.output
    assert ("broken: plugin 'broken' (distribution erp_test_broken) failed to import"
            in result.stderr)


def test_enabling_a_plugin_enables_its_dependencies_first(erp, use_plugins, make_kernel):
    use_plugins("alpha", "beta")
    erp("init")
    result = erp("plugins", "enable", "beta")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "enabled: alpha, beta"
    assert enabled_in(make_kernel) == ["alpha", "beta"]


def test_enabling_an_enabled_plugin_says_so(erp, use_plugins):
    use_plugins("alpha")
    erp("plugins", "enable", "alpha")
    result = erp("plugins", "enable", "alpha")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "already enabled"


def test_disabling_a_plugin_that_an_enabled_plugin_depends_on_is_refused_naming_it(
        erp, use_plugins, make_kernel):
    use_plugins("alpha", "beta")
    erp("plugins", "enable", "beta")
    result = erp("plugins", "disable", "alpha")
    assert_clean_failure(result, "cannot disable 'alpha'", "'beta' depends on it")
    assert enabled_in(make_kernel) == ["alpha", "beta"]


def test_disabling_a_plugin_keeps_its_data_and_says_so(erp, use_plugins, make_kernel):
    use_plugins("alpha", "beta")
    erp("plugins", "enable", "beta")
    result = erp("plugins", "disable", "beta")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "disabled: beta (data kept)"
    assert enabled_in(make_kernel) == ["alpha"]


def test_plugins_info_shows_one_plugins_facts_and_dependents(erp, use_plugins):
    use_plugins("alpha", "beta")
    erp("plugins", "enable", "alpha")
    result = erp("plugins", "info", "alpha")
    assert result.exit_code == 0, result.output
    facts = dict(re.split(r":\s+", line, maxsplit=1) for line in result.stdout.splitlines())
    assert facts == {
        "name": "alpha", "version": "1.0", "distribution": "erp_test_alpha",
        "description": "Test plugin alpha", "requires_kernel": ">=0.1", "depends": "-",
        "dependents": "beta", "enabled": "yes",
    }


def test_plugins_info_shows_a_broken_plugins_error(erp, use_plugins):
    use_plugins("broken")
    result = erp("plugins", "info", "broken")
    assert result.exit_code == 0, result.output
    assert re.search(r"^error:\s+plugin 'broken' .* failed to import", result.stdout, re.M)


@pytest.mark.parametrize("command", ["info", "enable", "disable"])
def test_an_unknown_plugin_name_is_a_clear_error(erp, use_plugins, command):
    use_plugins("alpha")
    erp("init")
    assert_clean_failure(erp("plugins", command, "nowhere"), "'nowhere'")


def test_an_unknown_plugin_name_lists_the_installed_plugins(erp, use_plugins):
    use_plugins("alpha", "beta")
    result = erp("plugins", "enable", "nowhere")
    assert_clean_failure(result, "no plugin named 'nowhere' is installed",
                         "installed: alpha, beta")


# -- plugin commands and boot failures -------------------------------------------------------


def test_a_plugins_cli_commands_run_as_erp_plugin_command(erp, use_plugins):
    use_plugins("alpha")
    erp("plugins", "enable", "alpha")
    result = erp("alpha", "count")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "0"


def test_enabled_plugins_command_groups_are_listed_in_help(erp, use_plugins):
    use_plugins("alpha")
    erp("plugins", "enable", "alpha")
    result = erp("--help")
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+alpha\s+Commands of the alpha plugin\.", result.stdout, re.M)


def test_a_plugin_that_is_not_enabled_adds_no_commands(erp, use_plugins):
    use_plugins("alpha")
    erp("init")
    result = erp("alpha", "count")
    assert result.exit_code != 0
    assert "No such command 'alpha'" in result.stderr


def test_a_broken_enabled_plugin_stops_a_booting_command_with_its_error(
        erp, use_plugins, fragile_plugin, monkeypatch):
    use_plugins("alpha")
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(fragile_plugin.working))
        assert erp("plugins", "enable", "alpha", "fragile").exit_code == 0
    monkeypatch.syspath_prepend(str(fragile_plugin.broken))
    result = erp("alpha", "count")
    assert_clean_failure(result, "plugin 'fragile' (distribution erp_test_fragile)",
                         "No module named 'erp_test_fragile_lost_dependency'")


def test_skip_broken_plugins_boots_without_the_broken_enabled_plugin(
        erp, use_plugins, fragile_plugin, monkeypatch, caplog):
    use_plugins("alpha")
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(fragile_plugin.working))
        assert erp("plugins", "enable", "alpha", "fragile").exit_code == 0
    monkeypatch.syspath_prepend(str(fragile_plugin.broken))
    result = erp("alpha", "count", env={"ERP_SKIP_BROKEN_PLUGINS": "1"})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "0"
    assert any("booting without fragile" in record.getMessage() for record in caplog.records)


def test_serve_on_an_uninitialised_database_fails_telling_to_run_init(erp):
    assert_clean_failure(erp("serve", "--port", "0"), "not initialised", "erp init")


@pytest.mark.parametrize("command", [
    [], ["init"], ["migrate"], ["plugins"], ["plugins", "list"], ["plugins", "info"],
    ["plugins", "enable"], ["plugins", "disable"], ["serve"], ["demo"],
])
def test_every_command_has_help(erp, command):
    result = erp(*command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")


# -- as a real process ---------------------------------------------------------------------


def process_environment(database_url: str | None, *plugin_folders: Path | str,
                        **extra: str) -> dict[str, str]:
    """The caller's environment without ERP settings, plus plugin folders on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    folders = [str(f if isinstance(f, Path) else FIXTURE_PLUGINS / f) for f in plugin_folders]
    env["PYTHONPATH"] = os.pathsep.join([*folders, *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    if database_url is not None:
        env["ERP_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_erp(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erp_core", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)


@attrs.frozen
class RunningServer:
    url: str
    stdout: list[str]


@contextmanager
def running_erp(cwd: Path, env: dict[str, str], *args: str) -> Iterator[RunningServer]:
    """Start ``erp ARGS`` (a serving command), wait for its ``API:`` line, terminate it after."""
    stderr_path = cwd / f"stderr-{os.getpid()}-{threading.get_ident()}.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "erp_core", *args], cwd=cwd, env=env,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no API line within {STARTUP_TIMEOUT}s; stdout: {seen}")
            if line is None:
                process.wait(timeout=SHUTDOWN_TIMEOUT)
                pytest.fail(f"erp exited with {process.returncode} before serving; stdout:"
                            f" {seen}; stderr: {stderr_path.read_text()}")
            seen.append(line)
            match = API_LINE.match(line)
            if match:
                yield RunningServer(url=match.group(1), stdout=seen)
                return
    finally:
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()


def test_erp_as_a_process_lists_plugins_as_json(database_url, tmp_path):
    env = process_environment(database_url, "alpha", "beta", "broken")
    assert run_erp(tmp_path, env, "init").returncode == 0
    result = run_erp(tmp_path, env, "plugins", "list", "--json")
    assert result.returncode == 0, result.stderr
    report = {item["name"]: item for item in json.loads(result.stdout)}
    assert {"alpha", "beta", "broken"} <= set(report)
    assert report["beta"]["depends"] == ["alpha"]
    assert report["broken"]["broken"] is True and "erp_test_broken" in report["broken"]["error"]


def test_erp_as_a_process_runs_a_plugins_command(database_url, tmp_path):
    env = process_environment(database_url, "alpha")
    assert run_erp(tmp_path, env, "plugins", "enable", "alpha").returncode == 0
    result = run_erp(tmp_path, env, "alpha", "count")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_erp_as_a_process_exits_non_zero_without_traceback_when_an_enabled_plugin_is_broken(
        database_url, tmp_path, fragile_plugin):
    enabled = run_erp(tmp_path, process_environment(database_url, "alpha", fragile_plugin.working),
                      "plugins", "enable", "alpha", "fragile")
    assert enabled.returncode == 0, enabled.stderr
    result = run_erp(tmp_path, process_environment(database_url, "alpha", fragile_plugin.broken),
                     "alpha", "count")
    assert result.returncode != 0
    assert "plugin 'fragile' (distribution erp_test_fragile)" in result.stderr
    assert "erp_test_fragile_lost_dependency" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_erp_as_a_process_boots_without_a_broken_plugin_when_told_to_skip_it(
        database_url, tmp_path, fragile_plugin):
    run_erp(tmp_path, process_environment(database_url, "alpha", fragile_plugin.working),
            "plugins", "enable", "alpha", "fragile")
    result = run_erp(tmp_path, process_environment(database_url, "alpha", fragile_plugin.broken,
                                                   ERP_SKIP_BROKEN_PLUGINS="1"),
                     "alpha", "count")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
    assert "booting without fragile" in result.stderr


def test_demo_serves_a_fresh_database_with_the_plugins_demo_data(tmp_path):
    env = process_environment(None, "alpha", "beta")
    database = tmp_path / "demo.db"
    with running_erp(tmp_path, env, "demo", "--port", "0", "--db", str(database)) as server:
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        token = next(m.group(1) for m in map(ADMIN_TOKEN_LINE.match, server.stdout) if m)
        greeting = httpx.get(f"{server.url}/api/v1/alpha/greeting", headers=bearer(token),
                             timeout=10)
        assert greeting.status_code == 200
        assert greeting.json() == {"hello": "alpha", "extra": ["beta"], "items": 3}
        assert "database: " in server.stdout[0]
        assert "alpha" in server.stdout[0] and "beta" in server.stdout[0]
        reference = httpx.get(f"{server.url}/schema", timeout=10)  # printed on the API: line
        assert reference.status_code == 200 and "redoc.standalone.js" in reference.text
    assert database.exists()


def test_demo_refuses_an_existing_database_file(tmp_path):
    database = tmp_path / "demo.db"
    database.write_bytes(b"")
    result = run_erp(tmp_path, process_environment(None), "demo", "--port", "0",
                     "--db", str(database))
    assert result.returncode != 0
    assert "already exists" in result.stderr and "Traceback" not in result.stderr


def test_serve_serves_the_api_of_an_initialised_database(
        database_url, tmp_path, use_plugins, kernel, make_token):
    use_plugins("alpha")
    kernel.enable(["alpha"])
    token = make_token(kernel, "alpha.greeter")
    env = process_environment(database_url, "alpha")
    with running_erp(tmp_path, env, "serve", "--port", "0") as server:
        health = httpx.get(f"{server.url}/health", timeout=10)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        greeting = httpx.get(f"{server.url}/api/v1/alpha/greeting", headers=bearer(token),
                             timeout=10)
        assert greeting.status_code == 200
        assert greeting.json()["items"] == 0


def test_serve_as_a_process_on_an_uninitialised_database_fails_clearly(database_url, tmp_path):
    result = run_erp(tmp_path, process_environment(database_url), "serve", "--port", "0")
    assert result.returncode != 0
    assert "not initialised" in result.stderr and "erp init" in result.stderr
    assert "Traceback" not in result.stderr


# -- outbound destinations ---------------------------------------------------------------

def test_webhooks_and_sinks_are_listed_as_tables_or_json_and_removed(erp, make_kernel):
    assert erp("init").exit_code == 0
    assert erp("webhooks", "list").output.strip() == "no webhooks"
    added = erp("webhooks", "add", "https://example.test/hook", "--pattern", "orders.*",
                "--secret", "whsec_cli_test_secret_01234")
    assert added.exit_code == 0, added.output
    kernel = make_kernel().boot()
    with kernel.context() as erp_ctx:
        sink = erp_ctx.records("kernel.event_sink").create(
            {"name": "broker", "driver": "redis", "settings": {}, "secrets": {},
             "patterns": ["*"], "active": False})
    kernel.close()
    [webhook_line] = erp("webhooks", "list").output.splitlines()
    assert webhook_line.split()[1:] == ["https://example.test/hook", "orders.*", "active"]
    [listed] = json.loads(erp("webhooks", "list", "--json").output)
    assert (listed["url"], listed["patterns"]) == ("https://example.test/hook", ["orders.*"])
    assert "whsec_cli_test_secret_01234" not in erp("webhooks", "list", "--json").output
    [sink_line] = erp("sinks", "list").output.splitlines()
    assert sink_line.split()[1:] == ["broker", "(redis)", "*", "off"]
    assert json.loads(erp("sinks", "list", "--json").output)[0]["name"] == "broker"

    assert erp("webhooks", "remove", str(listed["id"])).output.strip() == \
        f"webhook {listed['id']} removed"
    assert erp("sinks", "remove", str(sink["id"])).output.strip() == f"sink {sink['id']} removed"
    assert erp("webhooks", "list").output.strip() == "no webhooks"
    assert erp("sinks", "list").output.strip() == "no sinks"
