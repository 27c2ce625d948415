"""Finding and loading drivers by kind and name.

A driver is an entry point in one of the namespaces below whose target is a class (or
factory) called with the driver account's ``settings`` and ``secrets``. Loading goes
through stevedore; a driver named in configuration that is missing or fails to import
is a ``DriverError`` naming it, its namespace and its distribution.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

import attrs
import importlib_metadata
from stevedore import DriverManager, ExtensionManager
from stevedore.exception import NoMatches

from erp_core.errors import ErpError

DRIVER_KINDS: Mapping[str, str] = {
    "carrier": "erp.carriers",
    "payment_provider": "erp.payment_providers",
    "sales_channel": "erp.sales_channels",
    "event_sink": "erp.event_sinks",
    "exchange_rate_source": "erp.exchange_rate_sources",
}
"""Driver kind -> entry-point namespace."""


class DriverError(ErpError):
    """A configured driver is not installed or cannot be loaded."""

    status_code = 422
    title = "Driver unavailable"


@attrs.frozen
class DriverInfo:
    kind: str
    name: str
    namespace: str
    target: str
    distribution: str | None
    version: str | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _distributions(namespace: str) -> dict[str, tuple[str | None, str | None, str]]:
    found: dict[str, tuple[str | None, str | None, str]] = {}
    for entry_point in importlib_metadata.entry_points(group=namespace):
        dist = entry_point.dist
        found.setdefault(entry_point.name, (dist.name if dist else None,
                                            dist.version if dist else None, entry_point.value))
    return found


class Drivers:
    """The drivers installed on this machine, per kind."""

    def __init__(self, kinds: Mapping[str, str] = DRIVER_KINDS) -> None:
        self.kinds = dict(kinds)
        # stevedore remembers each namespace's entry points for the life of the process;
        # forget them, so a kernel sees the drivers installed when it is built (a driver
        # installed since an earlier kernel looked would otherwise stay "not installed").
        for namespace in self.kinds.values():
            ExtensionManager.ENTRY_POINT_CACHE.pop(namespace, None)

    def _namespace(self, kind: str) -> str:
        try:
            return self.kinds[kind]
        except KeyError:
            raise DriverError(f"unknown driver kind {kind!r}; kinds:"
                              f" {', '.join(sorted(self.kinds))}") from None

    def list(self, kind: str | None = None) -> list[DriverInfo]:
        """Every installed driver (of one kind, or all), loaded to check it imports."""
        infos = []
        for each in [kind] if kind else sorted(self.kinds):
            namespace = self._namespace(each)
            errors: dict[str, str] = {}

            def failed(_manager: Any, entry_point: Any, exc: BaseException,
                       errors: dict[str, str] = errors) -> None:
                errors[entry_point.name] = traceback.format_exception_only(
                    type(exc), exc)[-1].strip()

            ExtensionManager(namespace, invoke_on_load=False, on_load_failure_callback=failed)
            for name, (dist, version, target) in sorted(_distributions(namespace).items()):
                infos.append(DriverInfo(each, name, namespace, target, dist, version,
                                        errors.get(name)))
        return infos

    def load(self, kind: str, name: str, **kwargs: Any) -> Any:
        """An instance of driver ``name`` of ``kind``, built with ``kwargs`` (its account's
        ``settings`` and ``secrets``)."""
        namespace = self._namespace(kind)
        try:
            manager = DriverManager(namespace, name, invoke_on_load=True, invoke_kwds=kwargs,
                                    on_load_failure_callback=_reraise)
        except NoMatches:
            installed = ", ".join(sorted(_distributions(namespace))) or "none"
            raise DriverError(
                f"no {kind} driver named {name!r} is installed (namespace {namespace};"
                f" installed: {installed}); pip install the package that provides it") from None
        except _LoadFailure as failure:
            dist = _distributions(namespace).get(name, (None, None, ""))[0]
            raise DriverError(
                f"{kind} driver {name!r} (distribution {dist or 'unknown'}) could not be"
                f" loaded with its configuration: {failure.reason}; check the account's"
                " settings, or reinstall or upgrade the driver") from None
        except ErpError:
            raise
        except Exception as exc:
            raise DriverError(f"{kind} driver {name!r} refused its configuration:"
                              f" {type(exc).__name__}: {exc}") from None
        return manager.driver


class _LoadFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reraise(_manager: Any, _entry_point: Any, exc: BaseException) -> None:
    if isinstance(exc, ErpError):  # the driver refused its settings: keep its own error
        raise exc
    raise _LoadFailure(traceback.format_exception_only(type(exc), exc)[-1].strip())
