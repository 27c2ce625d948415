"""Validating discovered plugins and putting them in dependency order.

Validation happens before anything registers. Each failure marks the plugin broken with
a ``PluginError`` that names the plugin, its distribution and what to do; a plugin that
depends on a broken one is broken too. Whether a broken plugin stops the boot is decided
later, by whether it is enabled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from erp_core.errors import PluginError
from erp_core.plugins.discovery import DiscoveredPlugin, describe


@attrs.frozen
class PluginSet:
    """The installed plugins after validation.

    ``plugins`` maps every plugin name to its ``DiscoveredPlugin`` (broken ones carry
    their error); ``order`` lists the valid ones, dependencies before dependents, ties
    broken by name so the order never depends on installation luck.
    """

    plugins: Mapping[str, DiscoveredPlugin]
    order: tuple[str, ...]

    def get(self, name: str) -> DiscoveredPlugin:
        try:
            return self.plugins[name]
        except KeyError:
            known = ", ".join(sorted(self.plugins)) or "none"
            raise PluginError(
                f"no plugin named {name!r} is installed (installed: {known});"
                " pip install the distribution that provides it",
                plugin=name,
            ) from None

    @property
    def broken(self) -> list[DiscoveredPlugin]:
        return [p for p in self.plugins.values() if p.broken]

    def with_dependencies(self, names: Iterable[str]) -> list[str]:
        """``names`` and everything they depend on, in dependency order.

        Raises the ``PluginError`` of the first broken plugin among them.
        """
        wanted: set[str] = set()
        stack = list(names)
        while stack:
            plugin = self.get(stack.pop())
            if plugin.error is not None:
                raise plugin.error
            if plugin.name not in wanted:
                wanted.add(plugin.name)
                stack.extend(plugin.depends)
        return [name for name in self.order if name in wanted]

    def dependents(self, name: str) -> list[str]:
        """Plugins that name ``name`` in their ``depends``, directly."""
        return sorted(p.name for p in self.plugins.values() if name in p.depends)


def _duplicates(found: list[DiscoveredPlugin]) -> dict[str, DiscoveredPlugin]:
    by_name: dict[str, list[DiscoveredPlugin]] = {}
    for plugin in found:
        by_name.setdefault(plugin.name, []).append(plugin)
    result = {}
    for name, same in by_name.items():
        first = same[0]
        if len(same) > 1:
            dists = " and ".join(f"distribution {p.distribution or 'unknown'}" for p in same)
            first = first.with_error(PluginError(
                f"plugin name {name!r} is declared twice, by {dists}; uninstall one of"
                " these distributions (plugin names must be unique)",
                plugin=name, distribution=first.distribution,
            ))
        result[name] = first
    return result


def _kernel_version_error(plugin: DiscoveredPlugin, kernel_version: str) -> PluginError | None:
    wanted = plugin.manifest.requires_kernel if plugin.manifest else None
    if not wanted:
        return None
    who = describe(plugin.name, plugin.distribution)
    try:
        spec = SpecifierSet(wanted)
        ok = spec.contains(Version(kernel_version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion) as exc:
        return PluginError(f"{who} declares requires_kernel={wanted!r}, which is not a"
                           f" version specifier ({exc}); fix its manifest",
                           plugin=plugin.name, distribution=plugin.distribution)
    if ok:
        return None
    return PluginError(
        f"{who} requires erp-core {wanted} but erp-core {kernel_version} is installed;"
        f" install a release of {plugin.distribution or 'the plugin'} made for"
        f" erp-core {kernel_version}, or an erp-core matching {wanted}",
        plugin=plugin.name, distribution=plugin.distribution,
    )


def _find_cycle(start: str, plugins: Mapping[str, DiscoveredPlugin]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in on_path:
            return [*path[path.index(name):], name]
        if name not in plugins:
            return None
        path.append(name)
        on_path.add(name)
        for dep in plugins[name].depends:
            cycle = visit(dep)
            if cycle:
                return cycle
        path.pop()
        on_path.discard(name)
        return None

    cycle = visit(start)
    return cycle if cycle and start in cycle else None


def resolve_plugins(found: list[DiscoveredPlugin], kernel_version: str) -> PluginSet:
    """Validate ``found`` and order the valid plugins; see the module docstring."""
    plugins = _duplicates(found)

    for name, plugin in list(plugins.items()):
        if plugin.broken:
            continue
        error = _kernel_version_error(plugin, kernel_version)
        if error is None:
            missing = [dep for dep in plugin.depends if dep not in plugins]
            if missing:
                who = describe(name, plugin.distribution)
                error = PluginError(
                    f"{who} depends on {', '.join(map(repr, missing))}, which"
                    f" {'is' if len(missing) == 1 else 'are'} not installed; pip install the"
                    f" distribution that provides {'it' if len(missing) == 1 else 'them'},"
                    f" or uninstall {plugin.distribution or name}",
                    plugin=name, distribution=plugin.distribution,
                )
        if error is None:
            cycle = _find_cycle(name, plugins)
            if cycle:
                who = describe(name, plugin.distribution)
                error = PluginError(
                    f"{who} is part of a dependency cycle {' -> '.join(cycle)}; a plugin"
                    " cannot depend on itself, directly or through others: remove one of"
                    " these dependencies from a manifest",
                    plugin=name, distribution=plugin.distribution,
                )
        if error is not None:
            plugins[name] = plugin.with_error(error)

    # A plugin whose dependency is broken cannot load either; repeat until stable.
    changed = True
    while changed:
        changed = False
        for name, plugin in list(plugins.items()):
            if plugin.broken:
                continue
            bad = [dep for dep in plugin.depends if plugins[dep].broken]
            if bad:
                who = describe(name, plugin.distribution)
                reason = plugins[bad[0]].error
                plugins[name] = plugin.with_error(PluginError(
                    f"{who} depends on {bad[0]!r}, which is broken: {reason}",
                    plugin=name, distribution=plugin.distribution,
                ))
                changed = True

    order: list[str] = []
    placed: set[str] = set()
    pending = sorted(name for name, p in plugins.items() if not p.broken)
    while pending:
        ready = [n for n in pending if all(d in placed for d in plugins[n].depends)]
        # Every remaining plugin's dependencies are valid and acyclic, so one is ready.
        order.extend(ready)
        placed.update(ready)
        pending = [n for n in pending if n not in placed]
    return PluginSet(plugins=dict(sorted(plugins.items())), order=tuple(order))
