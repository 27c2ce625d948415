"""The CRM plugin's manifest and hook implementations: wiring only."""

from __future__ import annotations

from erp_sdk import PluginManifest, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="crm", requires_kernel=">=0.1,<0.2",
    description="Customers, contacts, addresses, interactions, RFM tiers, segments and"
                " behaviour summaries",
    # the modules holding write guards and reactions (``@on_write``)
    modules=("addresses", "contacts", "customers", "interactions", "segments", "tags",
             "tiers", "rfm", "metrics"),
)


@hookimpl
def erp_register_entities():
    from erp_crm.addresses import ADDRESS
    from erp_crm.behaviour import BEHAVIOUR
    from erp_crm.contacts import CONTACT
    from erp_crm.customers import CUSTOMER
    from erp_crm.interactions import INTERACTION
    from erp_crm.purchases import PURCHASE
    from erp_crm.segments import SEGMENT
    from erp_crm.tags import CUSTOMER_TAG, TAG
    from erp_crm.tiers import TIER_CHANGE, TIER_RULE

    return [CUSTOMER, CONTACT, ADDRESS, TAG, CUSTOMER_TAG, INTERACTION, PURCHASE, BEHAVIOUR,
            TIER_RULE, TIER_CHANGE, SEGMENT]


@hookimpl
def erp_register_permissions():
    from erp_crm import roles

    return [*roles.PERMISSIONS, *roles.ROLES]


@hookimpl
def erp_register_routes():
    from erp_crm import api  # the web framework only when routes are wanted

    return api.ROUTES


@hookimpl
def erp_register_cli_commands():
    from erp_crm import cli

    return cli.COMMANDS


@hookimpl
def erp_register_jobs():
    from erp_crm.rfm import RFM_JOBS
    from erp_crm.tiers import TIER_JOBS

    return [*TIER_JOBS, *RFM_JOBS]


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_crm import demo

    demo.load_demo_data(session, kernel)
