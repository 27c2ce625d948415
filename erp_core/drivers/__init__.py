"""Named adapters (carriers, payment providers, sales channels, event sinks) loaded with
stevedore from entry-point namespaces; their protocols live in ``erp_sdk.drivers``."""

from erp_core.drivers.registry import DRIVER_KINDS, DriverError, DriverInfo, Drivers

__all__ = ["DRIVER_KINDS", "DriverError", "DriverInfo", "Drivers"]
