"""Drivers are found as installed when a kernel is built, not as an earlier kernel saw them."""

from __future__ import annotations

import textwrap

from erp_core.drivers import Drivers


def install_carrier(site, name: str) -> None:
    """A distribution with one carrier driver, as pip would leave it in site-packages."""
    (site / f"erp_test_{name}.py").write_text(textwrap.dedent("""
        class Carrier:
            def __init__(self, settings, secrets):
                self.settings = settings
    """))
    info = site / f"erp_test_{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: erp-test-{name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[erp.carriers]\n{name} = erp_test_{name}:Carrier\n")


def test_a_driver_installed_after_an_earlier_lookup_is_loaded_by_a_new_kernels_drivers(
        tmp_path, monkeypatch):
    Drivers().list("carrier")  # something in this process looked before the install
    install_carrier(tmp_path, "late_courier")
    monkeypatch.syspath_prepend(str(tmp_path))

    carrier = Drivers().load("carrier", "late_courier", settings={"zone": "EU"}, secrets={})

    assert carrier.settings == {"zone": "EU"}
    assert "late_courier" in {info.name for info in Drivers().list("carrier")}
