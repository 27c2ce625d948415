"""Commands that neither serve nor boot the plugins start as fast as the stack allows:
reading the manifests imports no model, route or command of a plugin, and a SQLite
database does not import the PostgreSQL driver (``bench/cli_startup.py`` measures the
time; these tests hold what it depends on)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from erp_core.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    sys.stdout.flush()
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
FIRST_PARTY = ("erp_inventory", "erp_crm", "erp_orders")


def imported_by(tmp_path: Path, *args: str) -> set[str]:
    """The modules a fresh process has imported after running ``erp ARGS``."""
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run([sys.executable, "-c", PROBE, "--database-url", database, *args],
                            capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    imported_by(tmp_path, "init")
    imported_by(tmp_path, "plugins", "enable", "orders")
    return tmp_path


@pytest.mark.parametrize("args", [("plugins", "list"), ("--help",), ("plugins", "info", "crm")])
def test_a_command_that_reads_manifests_imports_only_the_plugins_entry_modules(initialised,
                                                                               args):
    modules = imported_by(initialised, *args)
    of_plugins = {m for m in modules if m.partition(".")[0] in FIRST_PARTY}
    assert of_plugins == {*FIRST_PARTY, *(f"{p}.plugin" for p in FIRST_PARTY)}
    assert "psycopg" not in modules
    assert "litestar.app" not in modules


def test_a_plugins_commands_load_when_they_are_used(initialised):
    modules = imported_by(initialised, "inventory", "warehouses", "list")
    assert "erp_inventory.cli" in modules
