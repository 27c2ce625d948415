"""The plugin author's guide (``sdk/README.md``) works as written.

Every fenced block of the guide is one of: a shell block (commands a reader types), a
Python or TOML block whose first line names the file it is (``# repairs/pyproject.toml``,
or ``# ... (append)`` for an addition), or the ``text`` block listing what the scaffold
writes. The fast tests build the guide's two plugins from the file blocks (with the
scaffold, as ``erp-sdk new`` would), make them importable with a ``dist-info`` each, and
check what the guide says they do, in process and by running the guide's own tests. The
slow test follows the guide literally, every shell command in a fresh virtual
environment, the way a newcomer would.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import attrs
import pytest

from erp_sdk.scaffold import create_plugin

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "sdk" / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)
FILE_LINE = re.compile(r"^# (?P<path>[\w./-]+)(?P<append> \(append\))?$")
PLUGINS = ("repairs", "repairs_warranty")
REPAIRS = "/api/v1/repairs/repairs"


@attrs.frozen
class Block:
    language: str
    text: str
    line: int

    @property
    def target(self) -> tuple[PurePosixPath, bool] | None:
        """The file a Python or TOML block is, and whether it is appended to it."""
        match = FILE_LINE.match(self.text.partition("\n")[0])
        if match is None:
            return None
        return PurePosixPath(match["path"]), bool(match["append"])

    @property
    def commands(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]


def guide_blocks() -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8")
    return [Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text)]


BLOCKS = guide_blocks()


def write_block(workspace: Path, block: Block) -> None:
    path, append = block.target  # type: ignore[misc]
    destination = workspace / path
    destination.parent.mkdir(parents=True, exist_ok=True)
    if append:
        with destination.open("a", encoding="utf-8") as file:
            file.write(block.text.partition("\n")[2])
    else:
        destination.write_text(block.text, encoding="utf-8")


def write_dist_info(project: Path) -> None:
    """What ``pip install -e`` records, reduced to what discovery reads."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    name = re.sub(r"[-_.]+", "_", metadata["name"]).lower()
    info = project / f"{name}-{metadata['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {metadata['name']}\nVersion: {metadata['version']}\n")
    sections = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
                for group, entries in metadata.get("entry-points", {}).items()]
    (info / "entry_points.txt").write_text("\n".join(sections))


def build_from_the_guide(workspace: Path) -> None:
    """Scaffold and write every file as the guide says; shell commands other than
    ``erp-sdk new``, ``cd`` and ``rm`` (installing, running tests) are left out."""
    cwd = workspace
    for block in BLOCKS:
        if block.language == "sh":
            for command in block.commands:
                words = shlex.split(command)
                if words[:2] == ["erp-sdk", "new"]:
                    create_plugin(words[2], cwd)
                elif words[0] == "cd":
                    cwd = (cwd / words[1]).resolve()
                elif words[0] == "rm":
                    for pattern in words[1:]:
                        for path in cwd.glob(pattern):
                            path.unlink()
        elif block.language in ("python", "toml"):
            write_block(workspace, block)
    for plugin in PLUGINS:
        write_dist_info(workspace / plugin)


@pytest.fixture(scope="module")
def guide_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The guide's plugins built once, importable for this module's tests."""
    workspace = tmp_path_factory.mktemp("guide")
    build_from_the_guide(workspace)
    paths = [str(workspace / plugin) for plugin in PLUGINS]
    sys.path[:0] = paths
    yield workspace
    for path in paths:
        sys.path.remove(path)
    for module in [m for m in sys.modules if m.partition(".")[0].startswith("erp_repairs")]:
        del sys.modules[module]


def test_every_block_is_a_command_a_file_or_the_scaffolds_layout():
    for block in BLOCKS:
        assert block.language in ("sh", "python", "toml", "text"), (
            f"sdk/README.md:{block.line}: a block of language {block.language!r} is"
            " exercised by no test")
        if block.language in ("python", "toml"):
            assert block.target is not None, (
                f"sdk/README.md:{block.line}: a {block.language} block must start with"
                " '# <path of the file>' so the tests can build it")
    assert [b.language for b in BLOCKS].count("text") == 1


def test_the_layout_shown_is_what_the_scaffold_writes(tmp_path):
    [layout] = [block for block in BLOCKS if block.language == "text"]
    create_plugin("repairs", tmp_path)
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")
                     if path.is_file())
    revision = re.compile(r"[0-9a-f]{12}_initial\.py$")
    assert [revision.sub("<revision>_initial.py", p) for p in written] == \
        layout.text.split()


def test_the_guides_plugins_import_nothing_of_the_kernel(guide_workspace):
    for path in guide_workspace.rglob("*.py"):
        text = path.read_text()
        assert "erp_core" not in text, f"{path} imports erp_core: plugins import erp_sdk only"


@pytest.mark.erp_plugins("repairs_warranty")
def test_enabling_the_extension_enables_the_plugin_it_extends(guide_workspace, erp_kernel):
    assert erp_kernel.enabled == ("repairs", "repairs_warranty")
    assert "warranty_until" in erp_kernel.entities.get("repairs.repair").fields


@pytest.mark.erp_plugins("repairs_warranty")
def test_a_repair_goes_through_its_workflow_over_the_api(guide_workspace, erp_client):
    repair = erp_client.post(REPAIRS, json={"customer_id": 7, "item": "kettle",
                                            "warranty_until": "2027-06-30"}).json()
    refused = erp_client.post(f"{REPAIRS}/{repair['id']}/quote")
    assert refused.status_code == 409
    assert "has no price" in refused.json()["detail"]
    erp_client.patch(f"{REPAIRS}/{repair['id']}", json={"price": "49.90"})
    for transition in ("quote", "accept", "finish"):
        response = erp_client.post(f"{REPAIRS}/{repair['id']}/{transition}")
        assert response.status_code == 200, response.text
    done = erp_client.get(f"{REPAIRS}/{repair['id']}").json()
    assert (done["state"], done["price"], done["warranty_until"]) == (
        "done", "49.9000", "2027-06-30")
    assert done["finished_at"] is not None


@pytest.mark.erp_plugins("repairs")
def test_the_typed_post_route_prices_and_quotes_a_repair(guide_workspace, erp_client):
    repair = erp_client.post(REPAIRS, json={"customer_id": 7, "item": "kettle"}).json()
    estimate = f"/api/v1/repairs/repairs/{repair['id']}/estimate"

    quoted = erp_client.post(estimate, json={"price": "120.00", "note": "new element"})

    assert quoted.status_code == 200, quoted.text
    assert (quoted.json()["state"], quoted.json()["fault"]) == ("quoted", "new element")
    assert quoted.json()["price"].startswith("120.00")
    missing = erp_client.post(estimate, json={"note": "no price"})
    assert missing.status_code == 422 and "price" in missing.text
    assert erp_client.post("/api/v1/repairs/repairs/x/estimate",
                           json={"price": "1"}).status_code in (404, 422)


@pytest.mark.erp_plugins("repairs")
def test_the_plugin_route_answers_only_with_its_permission(guide_workspace, erp_client_for):
    assert erp_client_for("repairs.technician").get(
        "/api/v1/repairs/workload").status_code == 200
    assert erp_client_for("repairs.customer").get(
        "/api/v1/repairs/workload").status_code == 403


@pytest.mark.erp_plugins("repairs")
def test_the_carrier_is_found_by_name(guide_workspace, erp_kernel):
    from erp_sdk.drivers import Carrier

    listed = {(d.kind, d.name) for d in erp_kernel.drivers.list()}
    assert ("carrier", "repairs_flatrate") in listed
    carrier = erp_kernel.drivers.load("carrier", "repairs_flatrate",
                                      settings={"price": "6.90"}, secrets={"webhook_secret": "x"})
    assert isinstance(carrier, Carrier)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_the_guides_tests_pass(guide_workspace, plugin):
    """The guide's tests, run by pytest in the plugin's folder as ``pytest`` would."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        str(guide_workspace / name) for name in PLUGINS)}
    env.pop("ERP_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=guide_workspace / plugin, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def newcomer_script(workspace: Path) -> str:
    """The guide as one bash script: its commands in order, its files written where it
    says. The one change: erp-sdk and erp-core come from this checkout, not an index."""
    lines = ["set -euxo pipefail", "PS4='+ [$SECONDS s] '", f"cd {shlex.quote(str(workspace))}"]
    for number, block in enumerate(BLOCKS):
        if block.language == "sh":
            for command in block.commands:
                if command == "pip install erp-sdk":
                    command = "pip install " + shlex.join([str(REPO), str(REPO / "sdk")])
                lines.append(command)
        elif block.language in ("python", "toml"):
            path, append = block.target  # type: ignore[misc]
            destination = shlex.quote(str(workspace / path))
            content = block.text.partition("\n")[2] if append else block.text
            marker = f"GUIDE_BLOCK_{number}"
            lines += [f"mkdir -p $(dirname {destination})",
                      f"cat {'>>' if append else '>'} {destination} <<'{marker}'",
                      content.rstrip("\n"), marker]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_a_newcomer_following_the_guide_gets_installed_plugins_with_green_tests(tmp_path):
    workspace = tmp_path / "newcomer"
    workspace.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "ERP_DATABASE_URL", "PYTHONHOME")}
    # The interpreter running these tests (not the one a virtualenv put first on PATH).
    env["PATH"] = os.pathsep.join([str(Path(sys.base_prefix) / "bin"), env.get("PATH", "")])
    result = subprocess.run(["bash", "-c", newcomer_script(workspace)], env=env,
                            capture_output=True, text=True, timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "repairs_flatrate" in result.stdout  # erp drivers list
    # the guide's last command is `erp plugins list --json`
    listed = json.loads(result.stdout[result.stdout.rindex("\n[\n") + 1:])
    assert {(p["name"], p["enabled"], p["broken"]) for p in listed} >= {
        ("repairs", True, False), ("repairs_warranty", True, False)}
