"""Discovery and validation of plugins found through the ``erp.plugins`` entry points."""

from __future__ import annotations

import pytest

from erp_core.errors import PluginError
from erp_core.kernel import Kernel
from erp_core.plugins.state import record_enabled


def test_plugins_are_discovered_with_version_and_distribution_from_metadata(use_plugins, kernel):
    use_plugins("alpha", "beta")
    alpha = kernel.plugins.get("alpha")
    beta = kernel.plugins.get("beta")
    assert (alpha.version, alpha.distribution) == ("1.0", "erp_test_alpha")
    assert (beta.version, beta.distribution) == ("1.2", "erp_test_beta")
    assert beta.depends == ("alpha",)
    assert not alpha.broken and not beta.broken


def test_a_target_with_a_manifest_and_no_hooks_is_a_valid_plugin(use_plugins, kernel):
    use_plugins("bare")
    kernel.enable(["bare"])
    kernel.boot()
    assert kernel.enabled == ("bare",)


def test_dependencies_come_before_dependents_in_the_order(use_plugins, kernel):
    use_plugins("beta", "alpha", "bare")
    assert kernel.plugins.order.index("alpha") < kernel.plugins.order.index("beta")


@pytest.mark.parametrize(
    ("folder", "name", "fragments"),
    [
        ("broken", "broken", ["failed to import", "erp_test_broken",
                              "No module named 'erp_test_module_that_does_not_exist'"]),
        ("cycle", "cycle_a", ["dependency cycle", "cycle_a -> cycle_b -> cycle_a",
                              "erp_test_cycle"]),
        ("orphan", "orphan", ["depends on 'nowhere'", "not installed", "erp_test_orphan"]),
        ("future", "future", ["requires erp-core >=99", "erp_test_future"]),
        ("nomanifest", "nomanifest", ["no `manifest`", "erp_test_nomanifest"]),
    ],
)
def test_each_invalid_plugin_is_marked_broken_with_a_message_naming_it(
        use_plugins, kernel, folder, name, fragments):
    use_plugins(folder)
    plugin = kernel.plugins.get(name)
    assert plugin.broken
    assert f"plugin {name!r}" in plugin.error.message or name in plugin.error.message
    for fragment in fragments:
        assert fragment in plugin.error.message


def test_two_distributions_declaring_one_plugin_name_is_an_error_naming_both(use_plugins, kernel):
    use_plugins("alpha", "twin")
    error = kernel.plugins.get("alpha").error
    assert error is not None
    assert "declared twice" in error.message
    assert "erp_test_alpha" in error.message and "erp_test_twin" in error.message


def test_a_plugin_depending_on_a_broken_plugin_is_broken_too(use_plugins, kernel):
    use_plugins("alpha", "beta", "twin")
    error = kernel.plugins.get("beta").error
    assert error is not None and "depends on 'alpha', which is broken" in error.message


def test_an_installed_broken_plugin_that_is_not_enabled_stops_nothing(use_plugins, kernel, caplog):
    use_plugins("alpha", "broken")
    kernel.enable(["alpha"])
    kernel.boot()
    assert kernel.enabled == ("alpha",)
    assert any("broken" in record.getMessage() for record in caplog.records)


def test_enabling_a_broken_plugin_raises_its_error_and_enables_nothing(use_plugins, kernel):
    use_plugins("alpha", "orphan")
    with pytest.raises(PluginError, match="depends on 'nowhere'"):
        kernel.enable(["alpha", "orphan"])
    assert kernel.enabled_names() == []


def test_an_enabled_plugin_that_breaks_later_stops_the_boot(use_plugins, make_kernel):
    use_plugins("alpha")
    make_kernel().enable(["alpha"])
    use_plugins("twin")  # a second distribution now claims the name: alpha is broken
    with pytest.raises(PluginError, match="declared twice"):
        make_kernel().boot()


def test_skip_broken_plugins_boots_without_the_enabled_broken_plugin_and_warns(
        use_plugins, make_kernel, caplog):
    use_plugins("alpha", "bare")
    make_kernel().enable(["alpha", "bare"])
    use_plugins("twin")
    kernel = make_kernel(skip_broken_plugins=True).boot()
    assert kernel.enabled == ("bare",)
    assert any("booting without alpha" in r.getMessage() for r in caplog.records)


def test_an_enabled_plugin_that_was_uninstalled_stops_the_boot_with_advice(
        use_plugins, make_kernel, monkeypatch):
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(__import__("kernel_testing").FIXTURE_PLUGINS / "bare"))
        make_kernel().enable(["bare"])
    with pytest.raises(PluginError, match=r"not installed.*erp plugins disable bare"):
        make_kernel().boot()


def test_enabling_a_plugin_whose_hook_has_no_spec_is_refused_naming_the_plugin(
        use_plugins, kernel):
    use_plugins("badhook")
    with pytest.raises(PluginError, match=r"plugin 'badhook'.*erp_regster_routes"):
        kernel.enable(["badhook"])
    assert kernel.enabled_names() == []


def test_an_enabled_plugin_whose_hook_has_no_spec_stops_the_boot_naming_the_plugin(
        use_plugins, kernel):
    use_plugins("badhook")
    with kernel.engine.begin() as connection:  # as if an upgrade had broken it since
        record_enabled(connection, "badhook", "0.1", True)
    with pytest.raises(PluginError, match=r"plugin 'badhook'.*erp_regster_routes"):
        kernel.boot()


def test_two_kernels_in_one_process_have_their_own_plugins(use_plugins, make_kernel, tmp_path):
    use_plugins("alpha", "bare")
    first = make_kernel()
    first.initialise()
    first.enable(["bare"])
    other = Kernel(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.initialise()
        other.enable(["alpha"])
        first.boot()
        other.boot()
        assert first.enabled == ("bare",) and other.enabled == ("alpha",)
        assert first.pm is not other.pm
    finally:
        other.close()


def test_a_plugin_adds_hookspecs_its_dependents_implement(use_plugins, kernel):
    use_plugins("alpha", "beta")
    kernel.enable(["beta"])
    kernel.boot()
    assert kernel.hook.erp_alpha_extra_names() == [["beta"]]
