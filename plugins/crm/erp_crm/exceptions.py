"""The CRM's errors: subclasses of the kernel's, so the API maps them once."""

from __future__ import annotations

from erp_sdk import ConflictError


class CustomerMerged(ConflictError):
    """The customer was merged into another: it keeps its history and changes no more."""

    title = "Customer merged"

    def __init__(self, customer_id: int | None, merged_into_id: int) -> None:
        super().__init__(f"customer {customer_id} was merged into customer {merged_into_id};"
                         f" work on customer {merged_into_id} instead")
        self.customer_id = customer_id
        self.merged_into_id = merged_into_id
