"""``erp migrate revision --plugin NAME --autogenerate``: a plugin's next migration written
from the difference between its models and the schema its migrations make.

Each test writes a plugin of its own into a temporary folder (with a ``dist-info`` so
discovery finds it), under a name no other test uses: its models join the process's
shared metadata once imported.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from erp_core.errors import ConfigurationError
from erp_core.kernel import Kernel
from erp_core.migrations.check import assert_migrations_match_models, migration_differences
from erp_core.migrations.revision import ruff_command, write_revision
from erp_core.settings import Settings

RUFF_RULES = """\
line-length = 100
target-version = "py311"

[lint]
select = ["E", "F", "W", "I", "B", "UP", "RUF", "DTZ", "SIM"]

[lint.isort]
known-first-party = ["erp_*"]
"""
"""The repository's ruff rules, for the plugin project of the test (the revision is
tidied under the rules of the project it is written into)."""

ITEM = '''
class Item(RecordMixin, Base):
    __tablename__ = "{name}_item"

    title: Mapped[str] = mapped_column(sa.String(80), index=True)
    price: Mapped[Money]
    seen_at: Mapped[UtcDateTime | None]
'''

TAG = '''
class Tag(RecordMixin, Base):
    __tablename__ = "{name}_tag"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("{name}_item.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(sa.String(40), unique=True)
    weight: Mapped[Quantity] = mapped_column(default=0)
'''


def write_plugin(root: Path, name: str, *models: str) -> Path:
    """A plugin package ``erp_<name>`` in ``root`` with these model classes."""
    package = root / f"erp_{name}"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    info = root / f"erp_{name}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: erp-{name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[erp.plugins]\n{name} = erp_{name}.plugin\n")
    (package / "plugin.py").write_text(
        "import sqlalchemy as sa\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from erp_sdk import Base, PluginManifest, Quantity, RecordMixin, UtcDateTime\n"
        "from erp_sdk import Money\n\n"
        f"manifest = PluginManifest(name={name!r})\n"
        + "".join(model.format(name=name) for model in models))
    return package / "migrations" / "versions"


def unique_name() -> str:
    return f"tally{uuid.uuid4().hex[:8]}"


def revision_of(path: Path) -> dict[str, object]:
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


def erp(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ERP_DATABASE_URL",)}
    env["PYTHONPATH"] = str(root)
    return subprocess.run([sys.executable, "-m", "erp_core", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_plugin_without_migrations_gets_its_first_revision_which_matches_its_models(
        tmp_path: Path, use_plugins: Callable[..., None], make_kernel: Callable[..., Kernel],
        monkeypatch: pytest.MonkeyPatch):
    """On the test's database (PostgreSQL too): the revision is written from the schema
    there, applied there, and the migrations-match-models check passes."""
    name = unique_name()
    versions = write_plugin(tmp_path, name, ITEM)
    monkeypatch.syspath_prepend(str(tmp_path))
    kernel = make_kernel()

    path = write_revision(kernel, name, "items")

    assert path.parent == versions
    written = revision_of(path)
    assert (written["down_revision"], written["branch_labels"]) == (None, (name,))
    source = path.read_text()
    assert "erp_core" not in source and "from erp_sdk import AwareDateTime, ExactNumeric" in source
    assert "ExactNumeric(18, 4)" in source
    assert migration_differences(kernel, name) == []


def test_nothing_to_write_is_refused_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = unique_name()
    versions = write_plugin(tmp_path, name, ITEM)
    monkeypatch.syspath_prepend(str(tmp_path))
    for database in ("a", "b"):
        kernel = Kernel(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / database}.db"))
        try:
            if database == "a":
                write_revision(kernel, name, "items")
            else:
                with pytest.raises(ConfigurationError, match="already create the schema"):
                    write_revision(kernel, name, "again")
        finally:
            kernel.close()
    assert len(list(versions.glob("*.py"))) == 1


def test_the_command_writes_the_next_revision_of_the_branch_for_a_new_model(
        tmp_path: Path, make_kernel: Callable[..., Kernel], monkeypatch: pytest.MonkeyPatch):
    """The command line, twice: the first revision, then one for a new model and a new
    index, revising the first. Applied on the test's database, the check passes; the files
    are ruff-clean under the project's rules (the repository's)."""
    name = unique_name()
    versions = write_plugin(tmp_path, name, ITEM)
    (tmp_path / "ruff.toml").write_text(RUFF_RULES)
    first = erp(tmp_path, "migrate", "revision", "--plugin", name, "--autogenerate",
                "-m", "items")
    assert first.returncode == 0, first.stdout + first.stderr
    [first_path] = versions.glob("*.py")
    assert f"wrote {first_path}" in first.stdout

    write_plugin(tmp_path, name, ITEM, TAG)
    second = erp(tmp_path, "migrate", "revision", "--plugin", name, "--autogenerate",
                 "-m", "tags on items")
    assert second.returncode == 0, second.stdout + second.stderr
    [second_path] = set(versions.glob("*.py")) - {first_path}
    assert second_path.name.endswith("_tags_on_items.py")
    assert revision_of(second_path)["down_revision"] == revision_of(first_path)["revision"]
    assert revision_of(second_path)["branch_labels"] is None
    assert f'"{name}_tag"' in second_path.read_text()

    again = erp(tmp_path, "migrate", "revision", "--plugin", name, "--autogenerate", "-m", "x")
    assert again.returncode == 1 and "no revision written" in again.stderr

    monkeypatch.syspath_prepend(str(tmp_path))
    assert_migrations_match_models(make_kernel(), name)

    if ruff_command() is None:
        pytest.skip("ruff is not installed: the lint part of this test needs it")
    lint = subprocess.run([*ruff_command(), "check", "--no-cache", str(versions)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_an_unknown_plugin_is_a_message_not_a_traceback(tmp_path: Path):
    result = erp(tmp_path, "migrate", "revision", "--plugin", "nosuchplugin", "-m", "x",
                 "--autogenerate")
    assert result.returncode == 1
    assert "nosuchplugin" in result.stderr and "Traceback" not in result.stderr
