"""One dispatcher for kernel hooks, transitions and writes: one ordering rule, explicit and
checked registration, errors naming the plugin and the function.

Test plugins: ``ranked`` (its subscribers in a module named by its manifest) and
``ranked_more`` (depends on it), with the same subscribers for a transition, a write and
``erp_boot``; ``forgot`` and ``forgot_imported`` leave a decorated function unregistered.
"""

from __future__ import annotations

import pytest

from erp_core.errors import PluginError
from erp_core.kernel import Kernel
from erp_core.security.principal import Principal

RANKED = ("desk", "ranked", "ranked_more")
EXPECTED = ["ranked_more.first", "ranked.early", "ranked.alpha", "ranked.zeta",
            "ranked_more.aaa"]
"""priority (50, 100, then the default 500), then dependency order, then name."""


@pytest.fixture
def calls(use_plugins):
    use_plugins(*RANKED)
    from erp_test_ranked.reactions import CALLS

    for found in CALLS.values():
        found.clear()
    return CALLS


@pytest.fixture
def ranked(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins(*RANKED)
    kernel.enable(["ranked_more"])
    return kernel


def _open_ticket(kernel: Kernel, title: str = "printer") -> int:
    with kernel.context(Principal.system()) as ctx:
        return ctx.records("desk.ticket").create({"title": title, "customer_id": 1})["id"]


def test_kernel_hooks_transitions_and_writes_run_in_one_order(ranked, calls):
    ranked.close()  # boot again from scratch: erp_boot runs once, for this set
    calls["boot"].clear()
    ranked.boot()
    ticket_id = _open_ticket(ranked)
    with ranked.context(Principal.system()) as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    assert calls == {"boot": EXPECTED, "write": EXPECTED, "transition": EXPECTED}


def test_the_order_is_the_same_whatever_order_the_plugins_were_enabled_in(
        use_plugins, make_kernel, calls):
    use_plugins(*RANKED)
    kernel = make_kernel()
    kernel.initialise()
    kernel.enable(["desk"])
    kernel.enable(["ranked"])
    kernel.enable(["ranked_more"])
    kernel.boot()
    _open_ticket(kernel)
    assert calls["write"] == EXPECTED
    assert kernel.workflows.subscribers("after", "desk.ticket", "start") == [
        "ranked_more:first_on_start", "ranked:early_on_start", "ranked:alpha_on_start",
        "ranked:zeta_on_start", "ranked_more:aaa_on_start"]


def test_a_failing_write_subscriber_names_the_plugin_and_the_function(ranked):
    ranked.boot()
    ticket_id = _open_ticket(ranked)
    with pytest.raises(PluginError) as caught, ranked.context(Principal.system()) as ctx:
        ctx.records("desk.ticket").update(ticket_id, {"title": "explode on write"})
    assert caught.value.plugin == "ranked"
    assert "erp_test_ranked.reactions.refuse_exploding_titles" in caught.value.message
    assert "RuntimeError: this title explodes" in caught.value.message
    with ranked.context(Principal.system()) as ctx:
        assert ctx.records("desk.ticket").get(ticket_id)["title"] == "printer"


def test_a_failing_kernel_hook_names_the_plugin_and_the_function(ranked, calls, monkeypatch):
    monkeypatch.setitem(calls, "boot", None)  # the first erp_boot subscriber fails
    with pytest.raises(PluginError) as caught:
        ranked.boot()
    assert caught.value.plugin == "ranked_more"
    assert ("erp_test_ranked_more.plugin.first_on_boot failed in erp_boot: AttributeError"
            in caught.value.message)


def test_a_subscriber_in_a_module_nothing_imports_stops_the_boot_naming_it(
        use_plugins, kernel):
    use_plugins("desk", "forgot")
    with pytest.raises(PluginError) as caught:
        kernel.enable(["forgot"])
    assert caught.value.plugin == "forgot"
    assert "stamp_when_closed in erp_test_forgot.forgotten" in caught.value.message
    assert "'forgotten'" in caught.value.message  # what to add to `modules`
    assert kernel.enabled_names() == []  # the plugin is not left enabled


def test_a_subscriber_in_an_imported_but_unregistered_module_stops_the_boot(
        use_plugins, kernel):
    use_plugins("desk", "forgot_imported")
    with pytest.raises(PluginError,
                       match=r"titles_are_short in erp_test_forgot_imported\.guards"):
        kernel.enable(["forgot_imported"])


def test_a_manifest_naming_a_module_that_does_not_exist_stops_the_boot(
        use_plugins, kernel, monkeypatch):
    use_plugins("desk", "ranked")
    from erp_test_ranked import plugin

    monkeypatch.setattr(plugin, "manifest",
                        type(plugin.manifest)(name="ranked", depends=["desk"],
                                              modules=("reactions", "missing")))
    with pytest.raises(PluginError, match=r"plugin 'ranked'.*'missing'"):
        kernel.enable(["ranked"])
