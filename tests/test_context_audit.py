"""``Context.audit``: a plugin's own writes (outside the entity service) leave audit rows
in their transaction, like the service's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from erp_core.audit import AuditEntry
from erp_core.kernel import Kernel
from erp_core.security.principal import Principal


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk")
    kernel.enable(["desk"])
    return kernel.boot()


def audit_rows(kernel: Kernel) -> list[AuditEntry]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "merged")))


def test_audit_records_the_principal_and_the_changed_fields_only(desk):
    with desk.context(Principal(name="maria", user_id=7)) as ctx:
        ctx.audit("desk.ticket", 3, "merged", {"title": "a", "state": "open"},
                  {"title": "a", "state": "closed"})
    [row] = audit_rows(desk)
    assert (row.principal, row.user_id, row.entity, row.record_id) == ("maria", 7, "desk.ticket", 3)
    assert row.changes == {"state": {"old": "open", "new": "closed"}}


def test_audit_rows_roll_back_with_their_transaction(desk):
    with pytest.raises(RuntimeError), desk.context() as ctx:
        ctx.audit("desk.ticket", 3, "merged", None, {"title": "a"})
        raise RuntimeError("the change failed")
    assert audit_rows(desk) == []
