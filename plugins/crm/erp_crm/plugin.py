"""The CRM plugin's manifest and hook implementations: wiring only."""

from __future__ import annotations

from erp_crm import cli, demo, roles
from erp_crm.addresses import ADDRESS, check_address_write, keep_default_addresses
from erp_crm.behaviour import BEHAVIOUR
from erp_crm.contacts import CONTACT, check_contact_write
from erp_crm.customers import CUSTOMER, check_customer_write
from erp_crm.interactions import INTERACTION, check_interaction_update
from erp_crm.purchases import PURCHASE
from erp_crm.segments import SEGMENT, check_segment
from erp_crm.tags import CUSTOMER_TAG, TAG, check_tagging
from erp_crm.tiers import TIER_CHANGE, TIER_JOBS, TIER_RULE, check_tier_rule
from erp_sdk import PluginManifest, hookimpl

manifest = PluginManifest(
    name="crm", requires_kernel=">=0.1,<0.2",
    description="Customers, contacts, addresses, interactions, RFM tiers, segments and"
                " behaviour summaries",
)

# Write guards and reactions (``@on_write``): pluggy finds them as attributes of this module.
WRITE_SUBSCRIBERS = (check_customer_write, check_address_write, keep_default_addresses,
                     check_contact_write, check_tagging, check_interaction_update,
                     check_tier_rule, check_segment)


@hookimpl
def erp_register_entities():
    return [CUSTOMER, CONTACT, ADDRESS, TAG, CUSTOMER_TAG, INTERACTION, PURCHASE, BEHAVIOUR,
            TIER_RULE, TIER_CHANGE, SEGMENT]


@hookimpl
def erp_register_permissions():
    return [*roles.PERMISSIONS, *roles.ROLES]


@hookimpl
def erp_register_routes():
    from erp_crm import api  # the web framework only when routes are wanted

    return api.ROUTES


@hookimpl
def erp_register_cli_commands():
    return cli.COMMANDS


@hookimpl
def erp_register_jobs():
    return TIER_JOBS


@hookimpl
def erp_load_demo_data(session, kernel):
    demo.load_demo_data(session, kernel)
