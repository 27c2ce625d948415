"""The example drivers install with pip into a fresh virtualenv, as an integrator's would:
the kernel discovers them (``erp drivers list``) and their own tests pass there.

One virtualenv, built once for the module, holds the kernel, the SDK and every example,
installed from a copy of the work tree (pip builds in the source folder; the copy keeps
``build/`` and ``*.egg-info`` out of the work tree and lets two runs go at once). Being
independent of the database, these tests run in the SQLite pass only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_testing import PG_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(PG_URL), reason="database-independent: runs in the SQLite pass"),
]

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {
    # folder: (driver kind, driver name, distribution, package)
    "carrier-tablerate": ("carrier", "tablerate", "erp-carrier-tablerate",
                          "erp_carrier_tablerate"),
    "payment-cod": ("payment_provider", "cod", "erp-payment-cod", "erp_payment_cod"),
    "payment-tillpoint": ("payment_provider", "tillpoint", "erp-payment-tillpoint",
                          "erp_payment_tillpoint"),
    "channel-webstore": ("sales_channel", "webstore", "erp-channel-webstore",
                         "erp_channel_webstore"),
    "rates-centralbank": ("exchange_rate_source", "centralbank", "erp-rates-centralbank",
                          "erp_rates_centralbank"),
}
_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".ci", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
    ".ruff_cache", ".hypothesis", ".import_linter_cache", "*.db", "*.db-*", "*.sqlite")


def _environment() -> dict[str, str]:
    """The caller's environment without anything that points at the work tree's virtualenv."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "ERP_DATABASE_URL", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(*command: str | Path, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=_environment(),
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-6000:]}\nstderr:\n{result.stderr[-6000:]}")
    return result


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``src/`` (a copy of the work tree) and ``venv/`` where the kernel, the
    SDK and the examples are installed, not editable, with pytest."""
    root = tmp_path_factory.mktemp("examples-install")
    shutil.copytree(REPO, root / "src", ignore=_NOT_SOURCES)
    _run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    examples = [f"{root / 'src' / 'examples' / folder}[test]" for folder in EXAMPLES]
    _run(root / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet",
         root / "src", root / "src" / "sdk", *examples, cwd=root)
    return root


@pytest.mark.parametrize("folder", EXAMPLES)
def test_erp_drivers_list_shows_the_example_with_its_distribution(workspace, folder):
    kind, name, distribution, package = EXAMPLES[folder]

    listed = json.loads(_run(workspace / "venv" / "bin" / "erp", "drivers", "list", "--json",
                             cwd=workspace).stdout)

    [info] = [info for info in listed if (info["kind"], info["name"]) == (kind, name)]
    assert info["distribution"] == distribution
    assert info["version"] == "0.1.0"
    assert info["target"].startswith(f"{package}.driver:")
    assert info["error"] is None


def test_the_examples_are_imported_from_the_virtualenv_not_the_work_tree(workspace):
    packages = [package for *_, package in EXAMPLES.values()]
    found = _run(workspace / "venv" / "bin" / "python", "-c",
                 "import importlib, sys; print('\\n'.join(importlib.import_module(name).__file__"
                 " for name in sys.argv[1:]))", *packages, cwd=workspace).stdout.split()

    assert all(Path(path).is_relative_to(workspace / "venv") for path in found), found


@pytest.mark.parametrize("folder", EXAMPLES)
def test_the_example_passes_its_own_tests_in_the_virtualenv(workspace, folder):
    tests = workspace / "src" / "examples" / folder / "tests"

    result = _run(workspace / "venv" / "bin" / "python", "-m", "pytest", "-q",
                  "-p", "no:cacheprovider", tests, cwd=workspace)

    assert " passed" in result.stdout and "failed" not in result.stdout
