"""The public surface of ``erp_sdk`` (see ``sdk/STABILITY.md``): explicit, sorted, documented.

A name a plugin may rely on is in ``erp_sdk.__all__`` and says what it is: classes and
functions with a docstring of their own, type aliases and constants with an attribute
docstring (a string right after the assignment) where they are defined.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import types
from pathlib import Path
from typing import Any

import pytest

import erp_sdk
import erp_sdk.testing

STABILITY = Path(erp_sdk.__file__).parent.parent / "STABILITY.md"


def attribute_docstring(module_name: str, name: str, seen: frozenset[str] = frozenset()
                        ) -> str | None:
    """The docstring of ``name`` where ``module_name`` assigns it, following imports."""
    if module_name in seen:
        return None
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    body = tree.body
    for index, node in enumerate(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            following = body[index + 1] if index + 1 < len(body) else None
            if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                return following.value.value
            return None
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return attribute_docstring(node.module, alias.name, seen | {module_name})
    return None


def documentation(module: types.ModuleType, name: str) -> str | None:
    lazy = getattr(module, "_LAZY", {})
    if name in lazy:  # imported on first use: documented where it is defined
        return attribute_docstring(lazy[name], name)
    value: Any = getattr(module, name)
    if inspect.isclass(value):
        return value.__dict__.get("__doc__")
    if inspect.isfunction(value) or inspect.ismodule(value):
        return value.__doc__
    return attribute_docstring(module.__name__, name)


def test_all_is_an_explicit_sorted_list_of_unique_names():
    assert isinstance(erp_sdk.__all__, list)
    assert erp_sdk.__all__ == sorted(set(erp_sdk.__all__))


@pytest.mark.parametrize("name", erp_sdk.__all__)
def test_every_public_name_exists(name):
    assert hasattr(erp_sdk, name)


@pytest.mark.parametrize("name", erp_sdk.__all__)
def test_every_public_name_is_documented(name):
    doc = documentation(erp_sdk, name)
    assert doc and doc.strip(), (
        f"erp_sdk.{name} has no docstring: give the class or function one, or put a string"
        " right after the assignment of an alias or constant")


def test_nothing_public_is_left_out_of_all():
    public = {name for name, value in vars(erp_sdk).items()
              if not name.startswith("_") and not inspect.ismodule(value)}
    assert public - set(erp_sdk.__all__) == set(), (
        "erp_sdk exposes names missing from __all__: add them, or import them as _private")


def test_star_import_gives_exactly_the_public_names():
    namespace: dict[str, Any] = {}
    exec("from erp_sdk import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(erp_sdk.__all__)


def test_the_test_kits_names_are_sorted_and_documented():
    assert erp_sdk.testing.__all__ == sorted(set(erp_sdk.testing.__all__))
    for name in erp_sdk.testing.__all__:
        assert documentation(erp_sdk.testing, name), name


def test_every_fixture_of_the_test_kit_is_named_erp_and_documented():
    fixtures = {name: function for name, function in vars(erp_sdk.testing).items()
                if hasattr(function, "_fixture_function_marker")}
    assert {"erp_database_url", "erp_kernel_factory", "erp_kernel", "erp_principal",
            "erp_token", "erp_app", "erp_client", "erp_client_for"} <= set(fixtures)
    for name, function in fixtures.items():
        assert name.startswith("erp_")
        assert inspect.getdoc(function), f"fixture {name} has no docstring"
        assert name in erp_sdk.testing.__doc__, f"the kit's docstring does not list {name}"


def test_the_stability_promise_names_what_is_public_and_how_it_changes():
    text = STABILITY.read_text(encoding="utf-8")
    for phrase in ("erp_sdk.__all__", "erp_sdk.drivers", "erp_sdk.testing",
                   "Semantic Versioning", "DeprecationWarning"):
        assert phrase in text


def test_importing_the_sdk_and_the_plugins_does_not_import_the_web_framework():
    """``erp plugins list`` reads manifests: it should not pay for the web framework."""
    import subprocess
    import sys

    code = ("import sys, erp_sdk, erp_inventory.plugin, erp_crm.plugin, erp_orders.plugin;"
            " print('litestar' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "False"


def test_every_driver_kind_has_a_protocol_in_the_sdk_and_a_namespace_in_the_promise():
    from erp_core.drivers.registry import DRIVER_KINDS
    from erp_sdk.drivers import DRIVER_PROTOCOLS

    assert set(DRIVER_PROTOCOLS) == set(DRIVER_KINDS)
    text = STABILITY.read_text(encoding="utf-8")
    for kind, namespace in DRIVER_KINDS.items():
        assert f"`{namespace}`" in text, f"STABILITY.md does not name {namespace}"
        assert f"`{DRIVER_PROTOCOLS[kind].__name__}`" in text


def test_a_fetched_rate_is_exact_and_refuses_a_float():
    from decimal import Decimal

    from erp_sdk.drivers import FetchedRate

    assert FetchedRate("usd", "0.9234").rate == Decimal("0.9234")
    assert FetchedRate("usd", "0.9234").currency == "USD"
    with pytest.raises(TypeError):
        FetchedRate("USD", 0.9234)
