"""Chart templates and setting up the books: accounts, journals, a fiscal year, roles.

Two templates: ``generic`` (a small business in any country) and ``cn-small``, the
Chinese small-enterprise standard chart (小企业会计准则), with Chinese names and English
translations. Each account is ``(code, name, English name, type, kind, parent code)``;
a code ending in ``00``/``000`` with children is a group account in ``generic``.
"""

from __future__ import annotations

import datetime as dt

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_finance.accounts import (
    Account,
    AccountKind,
    AccountRole,
    AccountType,
    Books,
    RoleAccount,
    TaxRounding,
)
from erp_finance.journals import Journal, JournalKind, ensure_sequences
from erp_finance.periods import FiscalYear, create_fiscal_year
from erp_sdk import ConflictError, ValidationError

A, L, E, INC, X = (AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY,
                 AccountType.INCOME, AccountType.EXPENSE)
K = AccountKind


@attrs.frozen
class AccountTemplate:
    code: str
    name: str
    name_en: str | None
    type: AccountType
    kind: AccountKind = AccountKind.OTHER
    parent: str | None = None
    postable: bool = True


def _t(code: str, name: str, name_en: str | None, type_: AccountType,
       kind: AccountKind = K.OTHER, parent: str | None = None, postable: bool = True
       ) -> AccountTemplate:
    return AccountTemplate(code, name, name_en, type_, kind, parent, postable)


GENERIC = [
    _t("1000", "Assets", None, A, postable=False),
    _t("1100", "Bank", None, A, K.BANK, "1000"),
    _t("1110", "Cash", None, A, K.CASH, "1000"),
    _t("1150", "Payment provider clearing", None, A, K.BANK, "1000"),
    _t("1160", "Reserves held by payment providers", None, A, K.OTHER, "1000"),
    _t("1200", "Accounts receivable", None, A, K.RECEIVABLE, "1000"),
    _t("1300", "Stock", None, A, K.STOCK, "1000"),
    _t("1310", "Goods in transit", None, A, K.STOCK, "1000"),
    _t("1400", "Input tax", None, A, K.TAX, "1000"),
    _t("2000", "Liabilities", None, L, postable=False),
    _t("2100", "Accounts payable", None, L, K.PAYABLE, "2000"),
    _t("2150", "Goods received not invoiced", None, L, K.OTHER, "2000"),
    _t("2200", "Output tax", None, L, K.TAX, "2000"),
    _t("2900", "Unrealized exchange differences", None, L, K.OTHER, "2000"),
    _t("3000", "Equity", None, E, postable=False),
    _t("3100", "Share capital", None, E, K.OTHER, "3000"),
    _t("3200", "Retained earnings", None, E, K.OTHER, "3000"),
    _t("4000", "Income", None, INC, postable=False),
    _t("4100", "Sales", None, INC, K.OTHER, "4000"),
    _t("4200", "Shipping charged", None, INC, K.OTHER, "4000"),
    _t("4900", "Exchange gains", None, INC, K.OTHER, "4000"),
    _t("5000", "Cost of sales", None, X, postable=False),
    _t("5100", "Cost of goods sold", None, X, K.COST_OF_GOODS_SOLD, "5000"),
    _t("5150", "Cost differences on returns", None, X, K.COST_OF_GOODS_SOLD, "5000"),
    _t("5200", "Stock variance", None, X, K.OTHER, "5000"),
    _t("5250", "Damaged goods written off", None, X, K.OTHER, "5000"),
    _t("5300", "Freight", None, X, K.OTHER, "5000"),
    _t("5310", "Freight variance", None, X, K.OTHER, "5000"),
    _t("6000", "Expenses", None, X, postable=False),
    _t("6100", "Payment fees", None, X, K.OTHER, "6000"),
    _t("6900", "Exchange losses", None, X, K.OTHER, "6000"),
    _t("6950", "Rounding differences", None, X, K.OTHER, "6000"),
]
GENERIC_ROLES = {
    AccountRole.RECEIVABLE: "1200", AccountRole.PAYABLE: "2100", AccountRole.SALES: "4100",
    AccountRole.SHIPPING_INCOME: "4200", AccountRole.OUTPUT_TAX: "2200",
    AccountRole.INPUT_TAX: "1400", AccountRole.STOCK: "1300",
    AccountRole.GOODS_IN_TRANSIT: "1310", AccountRole.COST_OF_GOODS_SOLD: "5100",
    AccountRole.COST_DIFFERENCE: "5150", AccountRole.STOCK_VARIANCE: "5200",
    AccountRole.STOCK_WRITE_OFF: "5250", AccountRole.GOODS_RECEIVED_NOT_INVOICED: "2150",
    AccountRole.FREIGHT: "5300", AccountRole.FREIGHT_VARIANCE: "5310",
    AccountRole.PAYMENT_FEES: "6100", AccountRole.PROVIDER_CLEARING: "1150",
    AccountRole.PROVIDER_RESERVE: "1160",
    AccountRole.BANK: "1100", AccountRole.CASH: "1110", AccountRole.EXCHANGE_GAIN: "4900",
    AccountRole.EXCHANGE_LOSS: "6900", AccountRole.UNREALIZED_EXCHANGE: "2900",
    AccountRole.ROUNDING: "6950", AccountRole.RETAINED_EARNINGS: "3200",
}

CN_SMALL = [
    _t("1001", "库存现金", "Cash on hand", A, K.CASH),
    _t("1002", "银行存款", "Bank deposits", A, K.BANK),
    _t("1012", "其他货币资金", "Other monetary funds", A, K.BANK),
    _t("1122", "应收账款", "Accounts receivable", A, K.RECEIVABLE),
    _t("1221", "其他应收款", "Other receivables", A),
    _t("1402", "在途物资", "Goods in transit", A, K.STOCK),
    _t("1405", "库存商品", "Merchandise inventory", A, K.STOCK),
    _t("1901", "待处理财产损溢", "Pending property gains and losses", A),
    _t("2202", "应付账款", "Accounts payable", L, K.PAYABLE, postable=False),
    _t("220201", "应付账款-供应商", "Accounts payable - suppliers", L, K.PAYABLE, "2202"),
    _t("220202", "应付账款-暂估", "Accounts payable - goods received not invoiced", L,
       K.OTHER, "2202"),
    _t("2203", "预收账款", "Advances from customers", L),
    _t("2221", "应交税费", "Taxes payable", L, K.TAX, postable=False),
    _t("222101", "应交增值税-进项税额", "VAT payable - input tax", L, K.TAX, "2221"),
    _t("222102", "应交增值税-销项税额", "VAT payable - output tax", L, K.TAX, "2221"),
    _t("2241", "其他应付款", "Other payables", L),
    _t("3001", "实收资本", "Paid-in capital", E),
    _t("3103", "本年利润", "Profit for the year", E),
    _t("3104", "利润分配", "Profit distribution (retained earnings)", E),
    _t("5001", "主营业务收入", "Main business revenue", INC, postable=False),
    _t("500101", "主营业务收入-商品销售", "Main business revenue - sales of goods", INC,
       K.OTHER, "5001"),
    _t("500102", "主营业务收入-运费收入", "Main business revenue - shipping charged", INC,
       K.OTHER, "5001"),
    _t("5051", "其他业务收入", "Other business revenue", INC),
    _t("5301", "营业外收入", "Non-operating income", INC),
    _t("5401", "主营业务成本", "Main business costs", X, K.COST_OF_GOODS_SOLD, postable=False),
    _t("540101", "主营业务成本-商品销售", "Main business costs - goods sold", X,
       K.COST_OF_GOODS_SOLD, "5401"),
    _t("540102", "主营业务成本-退货成本差异", "Main business costs - return cost differences",
       X, K.COST_OF_GOODS_SOLD, "5401"),
    _t("5402", "其他业务成本", "Other business costs", X),
    _t("5601", "销售费用", "Selling expenses", X, postable=False),
    _t("560101", "销售费用-运费", "Selling expenses - freight", X, K.OTHER, "5601"),
    _t("560102", "销售费用-运费差异", "Selling expenses - freight variance", X, K.OTHER, "5601"),
    _t("560103", "销售费用-平台及支付手续费", "Selling expenses - platform and payment fees",
       X, K.OTHER, "5601"),
    _t("5603", "财务费用", "Financial expenses", X, postable=False),
    _t("560301", "财务费用-汇兑损益", "Financial expenses - exchange differences", X,
       K.OTHER, "5603"),
    _t("560302", "财务费用-尾差", "Financial expenses - rounding", X, K.OTHER, "5603"),
    _t("5711", "营业外支出", "Non-operating expenses", X),
]
CN_SMALL_ROLES = {
    AccountRole.RECEIVABLE: "1122", AccountRole.PAYABLE: "220201",
    AccountRole.SALES: "500101", AccountRole.SHIPPING_INCOME: "500102",
    AccountRole.OUTPUT_TAX: "222102", AccountRole.INPUT_TAX: "222101",
    AccountRole.STOCK: "1405", AccountRole.GOODS_IN_TRANSIT: "1402",
    AccountRole.COST_OF_GOODS_SOLD: "540101", AccountRole.COST_DIFFERENCE: "540102",
    AccountRole.STOCK_VARIANCE: "1901", AccountRole.STOCK_WRITE_OFF: "5711",
    AccountRole.GOODS_RECEIVED_NOT_INVOICED: "220202", AccountRole.FREIGHT: "560101",
    AccountRole.FREIGHT_VARIANCE: "560102", AccountRole.PAYMENT_FEES: "560103",
    AccountRole.PROVIDER_CLEARING: "1012", AccountRole.PROVIDER_RESERVE: "1221",
    AccountRole.BANK: "1002",
    AccountRole.CASH: "1001", AccountRole.EXCHANGE_GAIN: "560301",
    AccountRole.EXCHANGE_LOSS: "560301", AccountRole.UNREALIZED_EXCHANGE: "2241",
    AccountRole.ROUNDING: "560302", AccountRole.RETAINED_EARNINGS: "3104",
}

TEMPLATES = {"generic": (GENERIC, GENERIC_ROLES), "cn-small": (CN_SMALL, CN_SMALL_ROLES)}

JOURNALS = [("SAL", "Sales", JournalKind.SALES), ("PUR", "Purchases", JournalKind.PURCHASES),
            ("BNK", "Bank", JournalKind.BANK), ("CSH", "Cash", JournalKind.CASH),
            ("STK", "Stock", JournalKind.STOCK), ("GEN", "General", JournalKind.GENERAL)]
RECONCILABLE_KINDS = {AccountKind.RECEIVABLE, AccountKind.PAYABLE}


def add_missing_role_accounts(session: Session) -> list[str]:
    """Books set up from an older version of their template lack the accounts and roles
    added since: add them (the template's codes and names) and return the roles added."""
    settings = session.scalar(sa.select(Books).limit(1))
    if settings is None:
        raise ValidationError("the books are not set up", {"books": "set up the books first"})
    accounts, roles = TEMPLATES[settings.template]
    present = set(session.scalars(sa.select(RoleAccount.role)))
    missing = {role: code for role, code in roles.items() if role not in present}
    if not missing:
        return []
    ids = dict(session.execute(sa.select(Account.code, Account.id)).all())
    for item in accounts:
        if item.code in ids or item.code not in missing.values():
            continue
        account = Account(code=item.code, name=item.name, name_en=item.name_en,
                          type=item.type, kind=item.kind, postable=item.postable,
                          parent_id=ids.get(item.parent) if item.parent else None,
                          reconcilable=item.kind in RECONCILABLE_KINDS, active=True, version=1)
        session.add(account)
        session.flush()
        ids[item.code] = account.id
    session.add_all(RoleAccount(role=role, account_id=ids[code]) for role, code in missing.items())
    session.flush()
    return sorted(missing)


def setup_books(session: Session, template: str, *, currency: str, year: int,
                company_name: str = "My company",
                tax_rounding: TaxRounding = TaxRounding.PER_LINE) -> Books:
    """Load a chart template, the six journals and a fiscal year of twelve months."""
    if template not in TEMPLATES:
        raise ValidationError(f"unknown chart template {template!r}: one of"
                              f" {', '.join(TEMPLATES)}", {"template": "unknown"})
    if session.scalar(sa.select(Books.id).limit(1)) is not None:
        raise ConflictError("the books are already set up")
    accounts, roles = TEMPLATES[template]
    ids: dict[str, int] = {}
    for item in accounts:
        account = Account(code=item.code, name=item.name, name_en=item.name_en,
                          type=item.type, kind=item.kind, postable=item.postable,
                          parent_id=ids[item.parent] if item.parent else None,
                          reconcilable=item.kind in RECONCILABLE_KINDS, active=True, version=1)
        session.add(account)
        session.flush()
        ids[item.code] = account.id
    session.add_all(RoleAccount(role=role, account_id=ids[code]) for role, code in roles.items())
    default = {JournalKind.BANK: roles[AccountRole.BANK], JournalKind.CASH: roles[AccountRole.CASH]}
    session.add_all(Journal(code=code, name=name, kind=kind, version=1,
                            default_account_id=ids[default[kind]] if kind in default else None)
                    for code, name, kind in JOURNALS)
    settings = Books(company_name=company_name, currency=currency.upper(), template=template,
                     tax_rounding=tax_rounding, version=1)
    session.add(settings)
    session.flush()
    if session.scalar(sa.select(FiscalYear.id).where(
            FiscalYear.start_date == dt.date(year, 1, 1))) is None:
        create_fiscal_year(session, year)
    ensure_sequences(session)
    return settings
