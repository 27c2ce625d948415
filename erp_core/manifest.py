"""What a plugin says about itself; the version and distribution come from package metadata."""

from __future__ import annotations

import re

import attrs

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
RESERVED_NAMES = frozenset({"kernel", "plugins", "drivers", "system", "auth"})
"""Names the kernel uses for its own tables, API paths and CLI groups."""


def _check_name(_instance: object, _attribute: attrs.Attribute, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(
            f"plugin name {value!r} must be lower-case letters, digits and single underscores,"
            " starting with a letter (it prefixes tables, permissions and API paths)"
        )
    if value in RESERVED_NAMES or value.startswith("kernel"):
        raise ValueError(f"plugin name {value!r} is reserved by the kernel; choose another")


def _as_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _check_modules(_instance: object, _attribute: attrs.Attribute, value: tuple[str, ...]
                   ) -> None:
    for name in value:
        if not isinstance(name, str) or not _MODULE.match(name):
            raise ValueError(f"modules: {name!r} is not a module name relative to the"
                             " plugin's package (e.g. 'fulfilment' or 'returns.rules')")


@attrs.frozen
class PluginManifest:
    """The declaration every plugin's entry-point target exposes as ``manifest``.

    ``depends`` names the plugins that must be enabled (and registered) before this one;
    ``requires_kernel`` is a PEP 440 specifier (``">=0.1,<1"``) checked against the
    installed ``erp-core`` before anything registers. ``modules`` names the modules of the
    plugin's package, besides the entry-point module, that hold its hook implementations
    and subscribers (``("fulfilment", "returns")``); the kernel registers exactly those,
    and a decorated function in any other module of the package stops the boot.
    """

    name: str = attrs.field(validator=_check_name)
    depends: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    requires_kernel: str | None = None
    description: str = ""
    modules: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple,
                                           validator=_check_modules)
