"""The hook and subscription reference of the SDK (``sdk/HOOKS.md``) is rendered from the
kernel's hookspecs and subscription decorators, and fails here when it drifts."""

from __future__ import annotations

import inspect
from pathlib import Path

from click.testing import CliRunner

from erp_core import hookspecs
from erp_sdk.reference import render_hooks
from erp_sdk.scaffold import main

HOOKS_MD = Path(__file__).resolve().parent.parent / "sdk" / "HOOKS.md"


def test_hooks_md_is_what_the_kernels_docstrings_render():
    assert HOOKS_MD.read_text(encoding="utf-8") == render_hooks(), (
        "sdk/HOOKS.md is out of date: run `erp-sdk hooks --output sdk/HOOKS.md`")


def test_every_hookspec_and_each_of_its_arguments_is_in_the_reference():
    text = render_hooks()
    specs = [f for _, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(f, "erp_spec")]
    assert len(specs) >= 10
    for spec in specs:
        assert f"### `{spec.__name__}`" in text
        for name in inspect.signature(spec).parameters:
            assert f"- `{name}`:" in text.split(f"### `{spec.__name__}`")[1].split("###")[0], (
                f"{spec.__name__}: argument {name} is not described")


def test_the_subscription_decorators_and_their_events_are_in_the_reference():
    text = render_hooks()
    for name in ("on_transition", "on_write", "TransitionEvent", "WriteEvent",
                 "TransitionVetoed"):
        assert f"### `{name}`" in text


def test_a_changed_docstring_changes_the_reference(monkeypatch):
    monkeypatch.setattr(hookspecs.erp_boot, "__doc__", "Called at boot. Changed.")
    assert "Called at boot. Changed." in render_hooks()
    assert HOOKS_MD.read_text(encoding="utf-8") != render_hooks()


def test_erp_sdk_hooks_prints_or_writes_the_reference(tmp_path):
    printed = CliRunner().invoke(main, ["hooks"])
    assert printed.exit_code == 0 and printed.output == render_hooks()
    written = CliRunner().invoke(main, ["hooks", "--output", str(tmp_path / "HOOKS.md")])
    assert written.exit_code == 0
    assert (tmp_path / "HOOKS.md").read_text() == render_hooks()
