"""An exchange-rate source reading a central bank's daily reference rates, and a local
fake of the bank's feed to test it against."""

from __future__ import annotations

from erp_rates_centralbank.driver import CentralBankRates
from erp_rates_centralbank.fake_feed import FakeCentralBank

__all__ = ["CentralBankRates", "FakeCentralBank"]
