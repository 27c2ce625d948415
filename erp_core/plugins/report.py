"""The facts about installed plugins that `erp plugins list` and `GET /api/v1/plugins` show."""

from __future__ import annotations

from typing import Any

from erp_core.plugins.resolution import PluginSet


def plugin_report(plugins: PluginSet, enabled: list[str] | None) -> list[dict[str, Any]]:
    """One JSON-ready record per installed plugin, sorted by name."""
    enabled_set = set(enabled or [])
    report = []
    for name, plugin in plugins.plugins.items():
        manifest = plugin.manifest
        report.append({
            "name": name,
            "version": plugin.version,
            "distribution": plugin.distribution,
            "description": manifest.description if manifest else "",
            "depends": list(plugin.depends),
            "requires_kernel": manifest.requires_kernel if manifest else None,
            "enabled": name in enabled_set,
            "broken": plugin.broken,
            "error": plugin.error.message if plugin.error else None,
        })
    return report
