"""A workflow is data: a ``StrEnum`` of states, an initial state and named transitions."""

from __future__ import annotations

import enum
import re

import attrs

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_TRANSITION_NAMES = frozenset({"history"})


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (str(value),)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


@attrs.frozen
class Transition:
    """``name`` moves a record from any of ``sources`` to ``target``.

    ``permission`` defaults to ``<plugin>.<entity>.<name>``; ``event`` (the outbox event
    suffix, ``<plugin>.<entity>.<event>``) defaults to ``name``.
    """

    name: str
    sources: tuple[str, ...] = attrs.field(converter=_names)
    target: str = attrs.field(converter=str)
    permission: str | None = None
    event: str | None = None
    description: str = ""


@attrs.frozen
class Workflow:
    """The states a record of an entity goes through, kept in its column ``field``."""

    states: type[enum.StrEnum]
    initial: str = attrs.field(converter=str)
    transitions: tuple[Transition, ...] = attrs.field(converter=tuple)
    field: str = "state"

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def allowed_from(self, state: str) -> list[str]:
        return [t.name for t in self.transitions if state in t.sources]

    def problems(self) -> list[str]:
        """What is wrong with this workflow as declared (empty when it is sound)."""
        states = {s.value for s in self.states}
        found = []
        if self.initial not in states:
            found.append(f"initial state {self.initial!r} is not a state")
        seen: set[str] = set()
        for t in self.transitions:
            if not _NAME.match(t.name) or t.name in RESERVED_TRANSITION_NAMES:
                found.append(f"transition name {t.name!r} is not allowed")
            if t.name in seen:
                found.append(f"transition {t.name!r} is declared twice")
            seen.add(t.name)
            if not t.sources:
                found.append(f"transition {t.name!r} has no source state")
            for state in (*t.sources, t.target):
                if state not in states:
                    found.append(f"transition {t.name!r} names unknown state {state!r}")
        reachable, frontier = {self.initial}, [self.initial]
        while frontier:
            state = frontier.pop()
            for t in self.transitions:
                if state in t.sources and t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        for state in sorted(states - reachable):
            found.append(f"state {state!r} cannot be reached from {self.initial!r}")
        return found
