"""Drivers are found as installed when a kernel is built, not as an earlier kernel saw them."""

from __future__ import annotations

import textwrap

import pytest

from erp_core.drivers import DriverError, Drivers
from erp_core.errors import ValidationError


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


def install_fussy_carrier(site, name: str) -> None:
    """A carrier that refuses its settings with a per-field ValidationError."""
    (site / f"erp_test_{name}.py").write_text(textwrap.dedent("""
        from erp_sdk import ValidationError

        class Carrier:
            def __init__(self, settings, secrets):
                raise ValidationError("bad settings", {"zones": "required"})
    """))
    info = site / f"erp_test_{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: erp-test-{name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[erp.carriers]\n{name} = erp_test_{name}:Carrier\n")


def test_a_driver_refusing_its_settings_keeps_its_own_error_and_field_messages(
        tmp_path, monkeypatch):
    install_fussy_carrier(tmp_path, "fussy_courier")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ValidationError) as refused:
        Drivers().load("carrier", "fussy_courier", settings={}, secrets={})

    assert refused.value.errors == {"zones": "required"}


def test_a_missing_driver_is_an_error_naming_it_and_its_namespace():
    with pytest.raises(DriverError, match=r"no carrier driver named 'nowhere'.*erp\.carriers"):
        Drivers().load("carrier", "nowhere", settings={}, secrets={})
