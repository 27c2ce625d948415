"""``erp-sdk new NAME``: a plugin package that installs with pip and passes its tests as
generated.

The fast tests check what is written and run the generated tests against a copy made
importable with a ``dist-info`` (as ``pip install -e`` would). The slow test does
exactly what a newcomer does: scaffold, a fresh virtual environment, ``pip install`` of
this checkout's kernel and SDK and of the plugin, the plugin's tests, ``erp plugins
list``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.specifiers import SpecifierSet

from erp_sdk.scaffold import create_plugin, main

REPO = Path(__file__).resolve().parent.parent
# What a generated plugin may import: the SDK, itself, the libraries the SDK brings for
# models, migrations and routes, pytest for its tests, and the standard library.
ALLOWED_IMPORTS = {"erp_sdk", "sqlalchemy", "alembic", "litestar", "pytest"} | set(
    sys.stdlib_module_names)


def run_new(cwd: Path, *args: str) -> tuple[int, str]:
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["new", *args])
    finally:
        os.chdir(previous)
    return result.exit_code, result.output


def write_dist_info(project: Path) -> None:
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    info = project / f"{metadata['name'].replace('-', '_')}-{metadata['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {metadata['name']}\nVersion: {metadata['version']}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
        for group, entries in metadata["entry-points"].items()))


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment of a shell that never activated the development virtualenv."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "ERP_DATABASE_URL")}
    return {**env, **extra}


@pytest.fixture
def shelf(tmp_path: Path) -> Path:
    exit_code, output = run_new(tmp_path, "shelf")
    assert exit_code == 0, output
    return tmp_path / "shelf"


def test_new_writes_a_package_with_one_module_per_concept(shelf):
    written = sorted(str(p.relative_to(shelf)) for p in shelf.rglob("*") if p.is_file())
    [migration] = [p for p in written if "/versions/" in p]
    assert written == sorted([
        "README.md", "pyproject.toml", "tests/test_plugin.py", "erp_shelf/__init__.py",
        "erp_shelf/plugin.py", "erp_shelf/models.py", "erp_shelf/permissions.py",
        "erp_shelf/api.py", migration])
    assert migration.startswith("erp_shelf/migrations/versions/")
    assert migration.endswith("_initial.py")


def test_new_says_what_it_made_and_what_to_do_next(tmp_path):
    exit_code, output = run_new(tmp_path, "shelf")
    assert exit_code == 0
    assert "created plugin 'shelf'" in output
    assert "pip install -e '.[test]'" in output


def test_the_distribution_declares_the_plugin_and_depends_on_the_sdk(shelf):
    project = tomllib.loads((shelf / "pyproject.toml").read_text())
    assert project["project"]["name"] == "erp-shelf"
    assert project["project"]["entry-points"]["erp.plugins"] == {"shelf": "erp_shelf.plugin"}
    assert project["project"]["dependencies"] == ["erp-sdk>=0.1,<0.2"]
    assert project["tool"]["pytest"]["ini_options"]["erp_plugins"] == ["shelf"]


def test_the_manifest_requires_the_kernel_series_it_was_made_with(shelf):
    [call] = [node for node in ast.walk(ast.parse((shelf / "erp_shelf" / "plugin.py").read_text()))
              if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PluginManifest"]
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert keywords["name"] == "shelf"
    assert SpecifierSet(keywords["requires_kernel"]).contains(version("erp-core"))
    assert not SpecifierSet(keywords["requires_kernel"]).contains("99.0")


def test_the_distribution_name_can_be_chosen(tmp_path):
    exit_code, output = run_new(tmp_path, "shelf", "--distribution", "acme-shelf")
    assert exit_code == 0, output
    project = tomllib.loads((tmp_path / "shelf" / "pyproject.toml").read_text())
    assert project["project"]["name"] == "acme-shelf"


def test_the_initial_migration_starts_the_plugins_own_branch(shelf):
    [migration] = (shelf / "erp_shelf" / "migrations" / "versions").glob("*_initial.py")
    assigned = {node.targets[0].id: ast.literal_eval(node.value)
                for node in ast.parse(migration.read_text()).body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    assert assigned["branch_labels"] == ("shelf",)
    assert assigned["down_revision"] is None
    assert migration.name == f"{assigned['revision']}_initial.py"


def test_every_plugin_gets_a_revision_of_its_own(tmp_path):
    create_plugin("shelf", tmp_path)
    create_plugin("rack", tmp_path)
    revisions = {p.name for p in tmp_path.glob("*/erp_*/migrations/versions/*.py")}
    assert len(revisions) == 2


def test_the_generated_code_imports_only_the_sdk_never_the_kernel(shelf):
    for path in shelf.rglob("*.py"):
        source = path.read_text()
        assert "erp_core" not in source, f"{path.relative_to(shelf)} mentions erp_core"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                assert top in ALLOWED_IMPORTS | {"erp_shelf"}, (
                    f"{path.relative_to(shelf)} imports {module}")


def test_the_generated_code_passes_the_repositorys_stricter_lint_rules(shelf):
    """The repository's rule selection, with the project's own import sections."""
    rules = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select",
         ",".join(rules["select"]), "--ignore", ",".join(rules["ignore"]), "."],
        cwd=shelf, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_existing_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "shelf").mkdir()
    (tmp_path / "shelf" / "notes.txt").write_text("mine")
    exit_code, output = run_new(tmp_path, "shelf")
    assert exit_code != 0
    assert "shelf already exists" in output
    assert [p.name for p in (tmp_path / "shelf").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(("name", "reason"), [
    ("Shelf", "must be lower-case letters, digits and single underscores"),
    ("my-shelf", "try 'my_shelf'"),
    ("2shelf", "starting with a letter"),
    ("shelf__box", "single underscores"),
    ("kernel", "reserved by the kernel"),
    ("drivers", "reserved by the kernel"),
])
def test_a_name_that_cannot_name_a_plugin_is_refused_saying_why(tmp_path, name, reason):
    exit_code, output = run_new(tmp_path, name)
    assert exit_code != 0
    assert reason in output
    assert list(tmp_path.iterdir()) == []


def test_the_generated_tests_pass(shelf):
    """The generated tests, run by pytest in the plugin's folder (on PostgreSQL too when
    ERP_TEST_DATABASE_URL is set: the variable passes through)."""
    write_dist_info(shelf)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=shelf, env=clean_environment(PYTHONPATH=str(shelf)),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


@pytest.mark.slow
def test_a_newcomer_scaffolds_installs_and_tests_a_plugin_in_a_fresh_virtualenv(tmp_path):
    scaffold = Path(sys.executable).with_name("erp-sdk")
    env = clean_environment(ERP_DATABASE_URL=f"sqlite:///{tmp_path / 'erp.db'}")

    def run(*command: str | Path, cwd: Path = tmp_path) -> str:
        result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (f"{' '.join(map(str, command))} failed:\n"
                                        f"{result.stdout[-4000:]}{result.stderr[-4000:]}")
        return result.stdout

    run(scaffold, "new", "shelf")
    run(sys.executable, "-m", "venv", "venv")
    venv = tmp_path / "venv" / "bin"
    run(venv / "python", "-m", "pip", "install", "--quiet", REPO, REPO / "sdk", "./shelf",
        "pytest")

    tests = run(venv / "python", "-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path / "shelf")
    assert "7 passed" in tests

    plugins = {p["name"]: p for p in json.loads(run(venv / "erp", "plugins", "list", "--json"))}
    assert plugins["shelf"]["distribution"] == "erp-shelf"
    assert plugins["shelf"]["broken"] is False


def manifest_keywords(project: Path, package: str) -> dict[str, object]:
    [call] = [node for node in ast.walk(ast.parse((project / package / "plugin.py").read_text()))
              if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PluginManifest"]
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def test_depends_names_the_plugins_in_the_manifest_and_their_distributions(tmp_path):
    exit_code, output = run_new(tmp_path, "rewards", "--depends", "crm, orders")
    assert exit_code == 0, output
    project = tmp_path / "rewards"
    assert manifest_keywords(project, "erp_rewards")["depends"] == ["crm", "orders"]
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"]
    assert dependencies == ["erp-sdk>=0.1,<0.2", "erp-crm>=0.1,<0.2", "erp-orders>=0.1,<0.2"]


def test_a_dependency_that_cannot_name_a_plugin_is_refused(tmp_path):
    exit_code, output = run_new(tmp_path, "rewards", "--depends", "crm,Orders")
    assert exit_code != 0 and "Orders" in output
    assert list(tmp_path.iterdir()) == []


def test_bare_leaves_out_the_sample_entity(tmp_path):
    exit_code, output = run_new(tmp_path, "rewards", "--bare")
    assert exit_code == 0, output
    project = tmp_path / "rewards"
    written = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert written == sorted(["README.md", "pyproject.toml", "tests/test_plugin.py",
                              "erp_rewards/__init__.py", "erp_rewards/plugin.py"])
    assert "item" not in (project / "README.md").read_text().lower()
    assert manifest_keywords(project, "erp_rewards")["name"] == "rewards"


@pytest.mark.parametrize("options", [(), ("--bare",), ("--depends", "crm,orders")])
def test_the_generated_project_passes_ruff_check_with_the_default_rules(tmp_path, options):
    """``ruff check`` in the project: its pyproject.toml keeps ruff's default rules and
    only says that the erp_* imports sort as their own block."""
    exit_code, output = run_new(tmp_path, "rewards", *options)
    assert exit_code == 0, output
    ruff = tomllib.loads((tmp_path / "rewards" / "pyproject.toml").read_text())["tool"]["ruff"]
    assert not {"select", "extend-select", "ignore"} & set(ruff.get("lint", {}))
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=tmp_path / "rewards", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_tests_of_a_bare_plugin_with_dependencies_pass(tmp_path):
    exit_code, output = run_new(tmp_path, "rewards", "--bare", "--depends", "crm")
    assert exit_code == 0, output
    project = tmp_path / "rewards"
    write_dist_info(project)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=project, env=clean_environment(PYTHONPATH=str(project)),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
