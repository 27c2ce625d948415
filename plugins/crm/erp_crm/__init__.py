"""The CRM plugin: customers and their history, tiers, segments and behaviour.

Other plugins call ``erp_crm.services``; everything else is wired by ``erp_crm.plugin``.
"""
