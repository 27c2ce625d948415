"""Logistics: shipments with packages, carriers chosen by rules, labels, tracking, freight."""
