"""The account's settings are checked when the driver is built, with every problem named."""

from __future__ import annotations

import importlib.metadata

import pytest
from tablerate_fixtures import *  # noqa: F403  (the fixtures)

from erp_carrier_tablerate import TableRateCarrier
from erp_sdk import ValidationError
from erp_sdk.drivers import Carrier


def build(settings, secrets=None):
    return TableRateCarrier(settings=settings,
                            secrets={"webhook_secret": "x"} if secrets is None else secrets)


def errors_of(settings, secrets=None) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        build(settings, secrets)
    assert raised.value.message.startswith("invalid tablerate carrier settings: ")
    return raised.value.errors


def test_the_driver_is_registered_in_the_carriers_namespace():
    [entry_point] = importlib.metadata.entry_points(group="erp.carriers", name="tablerate")

    assert entry_point.load() is TableRateCarrier
    assert entry_point.dist.name == "erp-carrier-tablerate"


def test_the_driver_implements_the_carrier_protocol(carrier):
    assert isinstance(carrier, Carrier)
    assert carrier.name == "Tablerate Express"


def test_a_complete_configuration_is_accepted(settings):
    assert build(settings).name == "Tablerate Express"


def test_the_carrier_name_defaults_to_tablerate(settings):
    settings.pop("carrier")

    assert build(settings).name == "tablerate"


def test_empty_settings_name_every_required_setting():
    assert errors_of({}, {}) == {
        "currency": "required: an ISO 4217 code such as EUR",
        "zones": "required: at least one zone with destinations and brackets",
        "services": 'required: at least one service, e.g. {"standard": {"transit_days": 3}}',
        "secrets.webhook_secret":
            "required: the shared secret the carrier signs tracking webhooks with",
    }


def test_a_float_price_is_refused_with_a_hint(settings):
    settings["zones"]["domestic"]["brackets"]["1"] = 4.9

    assert errors_of(settings) == {
        "zones.domestic.brackets.1": 'must be a decimal string, not float (write it as a'
                                     ' string, e.g. "4.90")'}


@pytest.mark.parametrize(("change", "path", "message"), [
    (lambda s: s.update(currency="euro"), "currency", "ISO 4217"),
    (lambda s: s.update(colour="red"), "colour", "unknown setting"),
    (lambda s: s["zones"]["domestic"].update(per_kg_abvoe="1"),
     "zones.domestic.per_kg_abvoe", "unknown setting"),
    (lambda s: s["zones"]["domestic"].update(brackets={"1": "4.905"}),
     "zones.domestic.brackets.1", "more than two decimals"),
    (lambda s: s["zones"]["domestic"].update(brackets={"0": "4.90"}),
     "zones.domestic.brackets.0", "greater than 0"),
    (lambda s: s["zones"]["domestic"].update(brackets={"one": "4.90"}),
     "zones.domestic.brackets.one", "not a decimal number"),
    (lambda s: s["zones"]["domestic"].update(brackets={"1": "-4.90"}),
     "zones.domestic.brackets.1", "must not be negative"),
    (lambda s: s["zones"]["domestic"].update(brackets={"1": "5.00", "2": "4.00"}),
     "zones.domestic.brackets", "is cheaper than"),
    (lambda s: s["zones"]["domestic"].update(brackets={"1": "5.00", "1.0": "6.00"}),
     "zones.domestic.brackets", "two brackets end at 1"),
    (lambda s: s["zones"]["domestic"].update(brackets={}), "zones.domestic.brackets",
     "required"),
    (lambda s: s["zones"]["domestic"].update(per_kg_above="lots"),
     "zones.domestic.per_kg_above", "not a decimal number"),
    (lambda s: s["zones"]["benelux"].update(destinations=["FR"]),
     "zones.benelux.destinations", "FR is already in zone 'domestic'"),
    (lambda s: s["zones"]["benelux"].update(destinations=["Belgium"]),
     "zones.benelux.destinations", "'Belgium' is not a destination"),
    (lambda s: s["zones"]["benelux"].update(destinations="BE"),
     "zones.benelux.destinations", "list of strings"),
    (lambda s: s["services"]["standard"].update(transit_days="3"),
     "services.standard.transit_days", "whole number"),
    (lambda s: s["services"]["standard"].update(transit_days=-1),
     "services.standard.transit_days", "at least 0"),
    (lambda s: s["services"]["express"].update(zones=["mars"]),
     "services.express.zones", "no zone named 'mars'"),
    (lambda s: s["services"]["express"].update(surcharge=6.5),
     "services.express.surcharge", "not float"),
    (lambda s: s.update(tracking_prefix="tr1"), "tracking_prefix", "capital letters"),
    (lambda s: s.update(webhook_tolerance_seconds=0), "webhook_tolerance_seconds",
     "at least 1"),
])
def test_a_wrong_setting_is_named_with_what_is_wrong(settings, change, path, message):
    change(settings)

    errors = errors_of(settings)
    assert list(errors) == [path]
    assert message in errors[path]


def test_every_problem_is_reported_at_once(settings):
    settings["currency"] = "€"
    settings["services"]["express"]["zones"] = ["mars"]

    assert set(errors_of(settings, {})) == {"currency", "services.express.zones",
                                            "secrets.webhook_secret"}


def test_settings_must_be_a_mapping():
    assert errors_of(["EUR"])["settings"] == "must be a mapping, not list"
