"""Demo data for ``erp demo`` (filled in below)."""


def load_demo_data(session, kernel) -> None:
    return None
