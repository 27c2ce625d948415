"""Every kernel hook is named ``erp_*`` and documented: each argument and the return value."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from erp_core import hookspecs


def kernel_hookspecs() -> list[Callable[..., Any]]:
    """The functions of ``erp_core.hookspecs`` that carry the ``erp`` hookspec marker."""
    marker = f"{hookspecs.PROJECT}_spec"
    return [function for _, function in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(function, marker)]


HOOKSPECS = kernel_hookspecs()


def test_the_kernel_declares_hookspecs():
    assert len(HOOKSPECS) >= 5


@pytest.mark.parametrize("hook", HOOKSPECS, ids=lambda hook: hook.__name__)
def test_every_hookspec_is_named_erp_something(hook):
    assert re.fullmatch(r"erp_[a-z][a-z0-9_]*", hook.__name__)


@pytest.mark.parametrize("hook", HOOKSPECS, ids=lambda hook: hook.__name__)
def test_every_hookspec_documents_each_of_its_arguments(hook):
    doc = inspect.getdoc(hook) or ""
    undocumented = [name for name in inspect.signature(hook).parameters
                    if f":param {name}:" not in doc]
    assert not undocumented, f"{hook.__name__} does not document {undocumented}"


@pytest.mark.parametrize("hook", HOOKSPECS, ids=lambda hook: hook.__name__)
def test_every_hookspec_says_what_its_return_value_means(hook):
    doc = inspect.getdoc(hook) or ""
    assert re.search(r"^Return value: \S", doc, re.M), (
        f"{hook.__name__} lacks a 'Return value:' paragraph")


@pytest.mark.parametrize("hook", HOOKSPECS, ids=lambda hook: hook.__name__)
def test_every_hookspec_documents_no_argument_it_does_not_have(hook):
    doc = inspect.getdoc(hook) or ""
    documented = set(re.findall(r":param (\w+):", doc))
    assert documented <= set(inspect.signature(hook).parameters)
