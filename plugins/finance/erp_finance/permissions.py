"""Who may do what in the books: viewers read, accountants post, managers reopen and lock."""

from erp_sdk import Permission, Role

ACTIONS = [
    Permission("finance.books.setup", "Set up the books from a chart template"),
    Permission("finance.statement.read", "Read statements and exports, verify the journals"),
    Permission("finance.entry.post", "Post manual journal entries"),
    Permission("finance.entry.reverse", "Reverse a posted entry"),
    Permission("finance.payment.record", "Record payments received and made"),
    Permission("finance.payment.match", "Match payments with invoices and credit notes"),
    Permission("finance.rate.write", "Enter exchange rates"),
    Permission("finance.stock.book", "Book the stock moves not booked yet"),
    Permission("finance.period.close", "Close periods and fiscal years, move the lock date on"),
    Permission("finance.period.reopen", "Reopen a closed period, move the lock date back"),
    Permission("finance.period.lock", "Lock a period for good"),
]

VIEWER = ["finance.*.read", "finance.statement.read"]
ACCOUNTANT = [*VIEWER, "finance.entry.post", "finance.entry.reverse", "finance.payment.record",
              "finance.payment.match", "finance.rate.write", "finance.stock.book",
              "finance.period.close", "finance.tax_rule.*", "finance.invoice_policy.*",
              "finance.account.create", "finance.account.update"]

DECLARATIONS = [
    *ACTIONS,
    Role("finance.viewer", VIEWER, "Reads the books, the statements and the documents"),
    Role("finance.accountant", ACCOUNTANT,
         "Posts entries and payments, matches them, keeps taxes and rates, closes periods"),
    Role("finance.manager", ["finance.*"],
         "Everything in finance: sets the books up, reopens and locks periods"),
]
