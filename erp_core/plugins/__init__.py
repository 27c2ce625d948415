"""Plugins: found through entry points, validated, ordered, enabled per database."""

from erp_core.plugins.discovery import ENTRY_POINT_GROUP, DiscoveredPlugin, discover_plugins
from erp_core.plugins.resolution import PluginSet, resolve_plugins

__all__ = ["ENTRY_POINT_GROUP", "DiscoveredPlugin", "PluginSet", "discover_plugins",
           "resolve_plugins"]
