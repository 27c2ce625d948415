"""The CRM's own permissions (beyond those derived for its entities) and default roles."""

from erp_sdk import Permission, Role

PERMISSIONS = [
    Permission("crm.customer.merge", "Merge a duplicate customer into the one that stays"),
    Permission("crm.interaction.create", "Log calls, messages, tickets and notes on customers"),
    Permission("crm.tier.recompute", "Recompute the tiers of every customer"),
]

ROLES = [
    Role("crm.agent", [
        "crm.customer.read", "crm.customer.create", "crm.customer.update",
        "crm.contact.*", "crm.address.*", "crm.customer_tag.*", "crm.tag.read",
        "crm.interaction.read", "crm.interaction.create", "crm.interaction.update",
        "crm.purchase.read", "crm.behaviour.read", "crm.tier_rule.read",
        "crm.tier_change.read", "crm.segment.read",
    ], "Serves customers: keeps their records, addresses, contacts and tags, logs"
       " interactions; reads purchases, tiers and segments"),
    Role("crm.manager", ["crm.*"],
         "Everything in the CRM, including merges, tier rules, recomputing tiers and segments"),
]
