"""Typed dependencies for route handlers: ``kernel: KernelDependency``,
``principal: PrincipalDependency`` (the authenticated caller)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from erp_core.kernel import Kernel
from erp_core.security.principal import Principal

KernelDependency: TypeAlias = NamedDependency[Kernel]
"""Annotate a route handler's ``kernel`` parameter with it to receive the running kernel."""

PrincipalDependency: TypeAlias = NamedDependency[Principal]
"""Annotate a route handler's ``principal`` parameter with it to receive the authenticated
caller (use it with ``kernel.context(principal)``)."""
