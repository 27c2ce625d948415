"""The account's settings are checked when the driver is built; the ledger keeps state."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from cod_fixtures import *  # noqa: F403  (the fixtures)

from erp_payment_cod import CashOnDelivery, MemoryLedger, SqliteLedger
from erp_payment_cod.exceptions import PaymentNotFound, PaymentStateConflict
from erp_sdk import ValidationError
from erp_sdk.drivers import Amount, PaymentRequest, PaymentStatus

SECRETS = {"webhook_secret": "s"}


def errors_of(settings, secrets=SECRETS) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        CashOnDelivery(settings=settings, secrets=secrets)
    assert raised.value.message.startswith("invalid cash-on-delivery settings: ")
    return raised.value.errors


def test_a_currency_and_a_secret_are_all_it_needs():
    cod = CashOnDelivery(settings={"currency": "eur"}, secrets=SECRETS)

    assert isinstance(cod.ledger, MemoryLedger)
    assert cod.authorize(PaymentRequest("SO-1", Amount("1.00", "EUR"))).status is \
        PaymentStatus.AUTHORIZED


def test_empty_settings_name_every_required_setting():
    assert errors_of({}, {}) == {
        "currency": "required: the ISO 4217 code of the cash the courier collects",
        "secrets.webhook_secret":
            "required: the shared secret the courier signs delivery notifications with",
    }


@pytest.mark.parametrize(("settings", "key", "message"), [
    ({"max_amount": 500.0}, "max_amount", 'not float (write it as a string, e.g. "500.00")'),
    ({"max_amount": "lots"}, "max_amount", "'lots' is not a decimal number"),
    ({"max_amount": "0"}, "max_amount", "must be greater than 0"),
    ({"ledger_path": ""}, "ledger_path", "must be the path of a SQLite file"),
    ({"webhook_tolerance_seconds": 0}, "webhook_tolerance_seconds", "at least 1"),
    ({"max_ammount": "5"}, "max_ammount", "unknown setting"),
    ({"currency": "euros"}, "currency", "required"),
])
def test_a_wrong_setting_is_named_with_what_is_wrong(settings, key, message):
    errors = errors_of({"currency": "EUR", **settings})

    assert list(errors) == [key]
    assert message in errors[key]


def test_a_memory_ledger_is_private_to_its_driver_instance():
    first = CashOnDelivery(settings={"currency": "EUR"}, secrets=SECRETS)
    second = CashOnDelivery(settings={"currency": "EUR"}, secrets=SECRETS)
    reference = first.authorize(PaymentRequest("SO-1", Amount("5.00", "EUR"))).provider_reference

    with pytest.raises(PaymentNotFound):
        second.capture(reference, Amount("5.00", "EUR"))


def test_a_sqlite_ledger_keeps_payments_across_driver_instances(tmp_path):
    settings = {"currency": "EUR", "ledger_path": str(tmp_path / "cod.sqlite")}
    reference = CashOnDelivery(settings=settings, secrets=SECRETS).authorize(
        PaymentRequest("SO-1", Amount("12.34", "EUR"))).provider_reference
    CashOnDelivery(settings=settings, secrets=SECRETS).capture(reference, Amount("12.34", "EUR"))

    later = CashOnDelivery(settings=settings, secrets=SECRETS)
    assert isinstance(later.ledger, SqliteLedger)
    with pytest.raises(PaymentStateConflict, match="already captured"):
        later.capture(reference, Amount("12.34", "EUR"))
    assert later.refund(reference, Amount("12.34", "EUR")).status is PaymentStatus.REFUNDED


def test_a_sqlite_ledger_stores_amounts_as_exact_decimals(tmp_path):
    ledger = SqliteLedger(tmp_path / "cod.sqlite")
    cod = CashOnDelivery(settings={"currency": "EUR"}, secrets=SECRETS, ledger=ledger)
    reference = cod.authorize(PaymentRequest("SO-1", Amount("1234567890.12", "EUR"))
                              ).provider_reference
    cod.capture(reference, Amount("1234567890.12", "EUR"))
    cod.refund(reference, Amount("0.01", "EUR"))

    payment = SqliteLedger(tmp_path / "cod.sqlite").get(reference)
    assert (payment.authorized, payment.refunded) == (Decimal("1234567890.12"), Decimal("0.01"))


def test_a_refused_change_leaves_the_sqlite_ledger_as_it_was(tmp_path):
    cod = CashOnDelivery(settings={"currency": "EUR"}, secrets=SECRETS,
                         ledger=SqliteLedger(tmp_path / "cod.sqlite"))
    reference = cod.authorize(PaymentRequest("SO-1", Amount("5.00", "EUR"))).provider_reference

    with pytest.raises(PaymentStateConflict):
        cod.capture(reference, Amount("5.01", "EUR"))
    assert cod.payment(reference).status is PaymentStatus.AUTHORIZED


def test_two_drivers_sharing_a_sqlite_ledger_cannot_both_capture(tmp_path):
    settings = {"currency": "EUR", "ledger_path": str(tmp_path / "cod.sqlite")}
    drivers = [CashOnDelivery(settings=settings, secrets=SECRETS) for _ in range(4)]
    reference = drivers[0].authorize(PaymentRequest("SO-1", Amount("5.00", "EUR"))
                                     ).provider_reference
    start = threading.Barrier(len(drivers))
    outcomes: list[str] = []

    def capture(driver: CashOnDelivery) -> None:
        start.wait()
        try:
            driver.capture(reference, Amount("5.00", "EUR"))
            outcomes.append("captured")
        except PaymentStateConflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=capture, args=(driver,)) for driver in drivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["captured", "refused", "refused", "refused"]
