"""``@on_transition``: react to one transition of one entity, in an explicit order.

Subscribers are ordinary pluggy hook implementations of ``erp_before_transition`` or
``erp_after_transition`` (through pluggy's ``specname``), so a plugin may have many of
them under any names. The engine runs them sorted by ``priority`` (lower first; default
500), then by plugin dependency order (a dependency before its dependents), then by
function name: never by the luck of load order. Every subscriber runs: reactions add up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from erp_core.hookspecs import hookimpl

DEFAULT_PRIORITY = 500
SUBSCRIPTION_ATTRIBUTE = "__erp_subscription__"


def on_transition(entity: str, transition: str | None, *,
                  when: Literal["before", "after"] = "after",
                  priority: int = DEFAULT_PRIORITY) -> Callable[[Callable[..., Any]], Any]:
    """Subscribe ``function(ctx, event)`` to ``transition`` of ``entity`` (``None``: to
    every transition of it).

    ``when="before"`` runs before the state changes; raising ``TransitionVetoed(reason)``
    there refuses the transition with a 409 carrying the reason. ``when="after"`` runs
    after the change in the same transaction; raising there undoes everything.
    """
    if when not in ("before", "after"):
        raise ValueError("when must be 'before' or 'after'")

    def decorate(function: Callable[..., Any]) -> Any:
        def subscriber(ctx: Any, event: Any) -> Any:
            if event.entity == entity and transition in (None, event.transition):
                return function(ctx, event)
            return None

        subscriber.__name__ = function.__name__
        subscriber.__qualname__ = function.__qualname__
        subscriber.__doc__ = function.__doc__
        subscriber.__module__ = function.__module__
        setattr(subscriber, SUBSCRIPTION_ATTRIBUTE, (entity, transition, priority))
        return hookimpl(specname=f"erp_{when}_transition")(subscriber)

    return decorate


def on_write(entity: str, *, actions: tuple[str, ...] = ("create", "update", "delete"),
             when: Literal["before", "after"] = "before",
             tryfirst: bool = False, trylast: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """Subscribe ``function(ctx, event)`` to writes of ``entity`` through the entity service.

    ``when="before"`` may refuse the write by raising an ``ErpError``; ``when="after"``
    runs in the same transaction. Subscribers run in pluggy's order: ``tryfirst`` ones
    first, ``trylast`` ones last.
    """
    if when not in ("before", "after"):
        raise ValueError("when must be 'before' or 'after'")

    def decorate(function: Callable[..., Any]) -> Any:
        def subscriber(ctx: Any, event: Any) -> Any:
            if event.entity == entity and event.action in actions:
                return function(ctx, event)
            return None

        subscriber.__name__ = function.__name__
        subscriber.__qualname__ = function.__qualname__
        subscriber.__doc__ = function.__doc__
        subscriber.__module__ = function.__module__
        return hookimpl(specname=f"erp_{when}_write", tryfirst=tryfirst,
                        trylast=trylast)(subscriber)

    return decorate
