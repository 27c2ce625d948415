"""No two modules of the kernel, the SDK or a plugin import each other, directly or round
a loop: an import loop works only in one import order, held apart by imports placed
inside functions, and breaks when someone imports the modules the other way round.

The graph is grimp's (the library import-linter is built on), for every package that
``[tool.importlinter] root_packages`` names. It counts imports inside functions and, for
plugins, those under ``TYPE_CHECKING``; importing ``a.b.c`` also runs ``a`` and ``a.b``,
so an edge to a module is also an edge to its packages.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"]


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {module: set() for module in graph.modules}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            edges[importer].add(imported)
            package = imported
            while "." in package:  # importing a.b.c runs a.b (and a) first
                package = package.rpartition(".")[0]
                if package in edges and not importer.startswith(package + "."):
                    edges[importer].add(package)
    return edges


def _loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    loops.append(sorted(component))
    return loops


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "erp_core"])
def test_the_modules_of_a_package_import_each_other_in_no_loop(package):
    assert _loops(_edges(grimp.build_graph(package, cache_dir=None))) == []


def test_the_kernel_modules_import_each_other_in_no_loop_at_run_time():
    graph = grimp.build_graph("erp_core", exclude_type_checking_imports=True, cache_dir=None)
    assert _loops(_edges(graph)) == []


def test_the_kernel_modules_import_each_other_in_no_loop_even_for_typing():
    assert _loops(_edges(grimp.build_graph("erp_core", cache_dir=None))) == []


def test_a_loop_is_found():
    assert _loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
