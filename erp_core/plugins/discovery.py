"""Finding plugins through the ``erp.plugins`` entry-point group.

Discovery never raises for one plugin's fault: a target that fails to import or lacks a
valid manifest is returned as a broken ``DiscoveredPlugin`` carrying its ``PluginError``,
so the caller decides whether it matters (it does only if the plugin is enabled).
"""

from __future__ import annotations

import traceback
from types import ModuleType

import attrs
import importlib_metadata

from erp_core.errors import PluginError
from erp_core.manifest import PluginManifest

ENTRY_POINT_GROUP = "erp.plugins"


@attrs.frozen
class DiscoveredPlugin:
    """One entry point of the group, loaded or not.

    ``name`` is the manifest's name when the target loaded, otherwise the entry point's
    name (the best a user can refer to a plugin that cannot be imported by).
    """

    name: str
    entry_point: str
    distribution: str | None
    version: str | None
    manifest: PluginManifest | None = None
    target: object | None = attrs.field(default=None, eq=False, repr=False)
    error: PluginError | None = attrs.field(default=None, eq=False)

    @property
    def broken(self) -> bool:
        return self.error is not None

    @property
    def depends(self) -> tuple[str, ...]:
        return self.manifest.depends if self.manifest else ()

    @property
    def package(self) -> str | None:
        """The Python package holding the target; its ``migrations/versions`` is the
        plugin's Alembic branch."""
        target = self.target
        if target is None:
            return None
        if isinstance(target, ModuleType):
            if hasattr(target, "__path__"):
                return target.__name__
            return target.__package__ or None
        module = getattr(target, "__module__", None) or type(target).__module__
        return module.rpartition(".")[0] or module

    def with_error(self, error: PluginError) -> DiscoveredPlugin:
        return attrs.evolve(self, error=error)


def describe(name: str, distribution: str | None) -> str:
    """``plugin 'orders' (distribution erp-orders)``: how every plugin error names its culprit."""
    return f"plugin {name!r} (distribution {distribution or 'unknown'})"


def _load(entry_point: importlib_metadata.EntryPoint) -> DiscoveredPlugin:
    dist = entry_point.dist
    distribution = dist.name if dist else None
    version = dist.version if dist else None
    base = DiscoveredPlugin(
        name=entry_point.name, entry_point=entry_point.value,
        distribution=distribution, version=version,
    )
    who = describe(entry_point.name, distribution)
    try:
        target = entry_point.load()
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return base.with_error(PluginError(
            f"{who} failed to import {entry_point.value!r}: {last}. Reinstall or upgrade"
            f" {distribution or 'the package'}, or uninstall it if it is not needed.",
            plugin=entry_point.name, distribution=distribution,
        ))
    manifest = getattr(target, "manifest", None)
    if not isinstance(manifest, PluginManifest):
        return attrs.evolve(base, target=target, error=PluginError(
            f"{who}: entry point {entry_point.value!r} has no `manifest` of type"
            " erp_sdk.PluginManifest; define `manifest = PluginManifest(name=...)` in it.",
            plugin=entry_point.name, distribution=distribution,
        ))
    return attrs.evolve(base, name=manifest.name, manifest=manifest, target=target)


def discover_plugins() -> list[DiscoveredPlugin]:
    """Every entry point of the ``erp.plugins`` group on ``sys.path``, loaded, sorted by name.

    The same distribution seen twice on ``sys.path`` (an editable install and a copy)
    counts once: the first on the path wins, as Python's import system would have it.
    """
    seen: set[tuple[str | None, str]] = set()
    found = []
    for entry_point in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (entry_point.dist.name if entry_point.dist else None, entry_point.name)
        if key in seen:
            continue
        seen.add(key)
        found.append(_load(entry_point))
    return sorted(found, key=lambda plugin: plugin.name)
