"""The CRM's Python services: what other plugins (orders first) and scripts call.

Every function takes the caller's ``Context`` and works inside its transaction; see the
plugin's README for the contract of ``record_purchase`` and ``cancel_purchase``.
"""

from erp_crm.interactions import log_interaction, timeline
from erp_crm.merge import merge_customers
from erp_crm.purchases import RecordedPurchase, cancel_purchase, record_purchase
from erp_crm.segments import (
    CustomerCriteria,
    search_customers,
    segment_behaviour,
    segment_members,
)
from erp_crm.tiers import TierChanged, recompute_tiers

__all__ = [
    "CustomerCriteria",
    "RecordedPurchase",
    "TierChanged",
    "cancel_purchase",
    "log_interaction",
    "merge_customers",
    "recompute_tiers",
    "record_purchase",
    "search_customers",
    "segment_behaviour",
    "segment_members",
    "timeline",
]
