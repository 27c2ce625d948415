"""The one dispatcher: every kernel hook, plugin hook and subscription runs through here.

A plugin marks functions with ``hookimpl`` (a kernel or plugin hook, by name),
``on_transition`` (a workflow transition of one entity) or ``on_write`` (creates, updates
and deletes of one entity through the entity service). They are registered from the
plugin's entry-point module and the modules its manifest names in ``modules``; a marked
function in any other module of the plugin's package stops the boot, naming it, since
it would otherwise never run.

One ordering rule for all of them: ``priority`` (lower first, default 500), then plugin
dependency order (a dependency before its dependents), then module and function name:
never the order modules happened to load in. ``when`` defaults to ``"after"`` for both
subscription kinds. An exception other than an ``ErpError`` raised by any of them becomes
a ``PluginError`` naming the plugin and the function.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, Literal

import attrs

from erp_core.errors import ErpError, PluginError

DEFAULT_PRIORITY = 500
DEFAULT_WHEN: Literal["after"] = "after"
WRITE_ACTIONS = ("create", "update", "delete")
_MARKS = "__erp_hooks__"
_DECORATORS = frozenset({"hookimpl", "on_transition", "on_write"})
_NOT_SCANNED = frozenset({"migrations", "tests", "__pycache__"})


@attrs.frozen
class Subscription:
    """What a decorator asked for: the hook, the order, and which events (``None``: all)."""

    hook: str
    priority: int = DEFAULT_PRIORITY
    entity: str | None = None
    transition: str | None = None
    actions: frozenset[str] | None = None
    optional: bool = False


def _mark(function: Callable[..., Any], subscription: Subscription) -> Any:
    if not callable(function):
        raise TypeError(f"{subscription.hook}: can only subscribe a function, not {function!r}")
    marks = function.__dict__.setdefault(_MARKS, [])
    marks.append(subscription)
    return function


def marks_of(function: object) -> list[Subscription]:
    """The subscriptions a function was decorated with (empty for any other object)."""
    if not inspect.isfunction(function):
        return []
    return function.__dict__.get(_MARKS, [])


def hookimpl(function: Callable[..., Any] | None = None, *, specname: str | None = None,
             priority: int = DEFAULT_PRIORITY, optionalhook: bool = False) -> Any:
    """Implement the hook named like the function (or ``specname``): ``@hookimpl`` or
    ``@hookimpl(priority=100)``. ``optionalhook=True`` for a hook of a plugin that may not
    be enabled; the implementation is then left out without it."""

    def decorate(target: Callable[..., Any]) -> Any:
        return _mark(target, Subscription(specname or target.__name__, priority,
                                          optional=optionalhook))

    return decorate(function) if function is not None else decorate


def _hook_of(kind: str, when: str) -> str:
    if when not in ("before", "after"):
        raise ValueError(f"when must be 'before' or 'after', not {when!r}")
    return f"erp_{when}_{kind}"


def on_transition(entity: str, transition: str | None, *,
                  when: Literal["before", "after"] = DEFAULT_WHEN,
                  priority: int = DEFAULT_PRIORITY) -> Callable[[Callable[..., Any]], Any]:
    """Subscribe ``function(ctx, event)`` to ``transition`` of ``entity`` (``None``: to
    every transition of it).

    ``when="before"`` runs before the state changes; raising ``TransitionVetoed(reason)``
    there refuses the transition with a 409 carrying the reason. ``when="after"`` (the
    default) runs after the change in the same transaction; raising there undoes it all.
    """
    subscription = Subscription(_hook_of("transition", when), priority, entity, transition)
    return lambda function: _mark(function, subscription)


def on_write(entity: str, *, actions: Iterable[str] = WRITE_ACTIONS,
             when: Literal["before", "after"] = DEFAULT_WHEN,
             priority: int = DEFAULT_PRIORITY) -> Callable[[Callable[..., Any]], Any]:
    """Subscribe ``function(ctx, event)`` to ``actions`` on ``entity`` through the entity
    service.

    ``when="before"`` may refuse the write by raising an ``ErpError``; nothing is written.
    ``when="after"`` (the default) runs in the same transaction; raising undoes the write.
    """
    actions = frozenset(actions)
    if not actions or not actions <= set(WRITE_ACTIONS):
        raise ValueError(f"actions must be among {', '.join(WRITE_ACTIONS)}")
    subscription = Subscription(_hook_of("write", when), priority, entity, actions=actions)
    return lambda function: _mark(function, subscription)


@attrs.frozen
class PluginHooks:
    """A plugin as the dispatcher sees it: its name, its place in dependency order, and
    the modules (or, for an entry point naming an object, the object) holding its hooks."""

    name: str
    rank: int
    holders: tuple[Any, ...]
    distribution: str | None = None
    package: str | None = None


@attrs.frozen
class Subscriber:
    """One registered hook implementation or subscription of one plugin."""

    plugin: str
    function: Callable[..., Any] = attrs.field(eq=False)
    subscription: Subscription
    rank: int
    distribution: str | None = None
    argnames: tuple[str, ...] = attrs.field(eq=False, default=())

    @property
    def name(self) -> str:
        """``module.function``: how errors and listings name it."""
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def sort_key(self) -> tuple[int, int, str]:
        return (self.subscription.priority, self.rank, self.name)

    def wants(self, event: Any) -> bool:
        wanted = self.subscription
        return ((wanted.entity is None or wanted.entity == event.entity)
                and (wanted.transition is None or wanted.transition == event.transition)
                and (wanted.actions is None or event.action in wanted.actions))

    def describe(self) -> str:
        who = f"plugin {self.plugin!r}"
        if self.distribution:
            who += f" (distribution {self.distribution})"
        return f"{who}, {self.name}"


def registered_modules(package: str | None, target: Any,
                       modules: Sequence[str]) -> tuple[Any, ...]:
    """The entry point's target and the modules a manifest names (relative to the
    plugin's package), imported."""
    holders: list[Any] = [target]
    for name in modules:
        if package is None:
            raise PluginError(f"a plugin whose entry point is not in a package cannot name"
                              f" modules ({name!r}); put its hooks in the entry-point module")
        full = f"{package}.{name}"
        try:
            module = importlib.import_module(full)
        except ImportError as exc:
            raise PluginError(f"manifest names module {name!r}, which cannot be imported"
                              f" as {full}: {exc}") from None
        if module not in holders:
            holders.append(module)
    return tuple(holders)


def _functions(holder: Any) -> Iterator[Callable[..., Any]]:
    """The marked functions ``holder`` defines (a module's own, not ones it imported; an
    object's methods, bound)."""
    if isinstance(holder, ModuleType):
        for value in vars(holder).values():
            if marks_of(value) and value.__module__ == holder.__name__:
                yield value
    else:
        for name in dir(holder):
            value = getattr(holder, name, None)
            if marks_of(getattr(value, "__func__", value)):
                yield value


def _decorated_in_source(path: str) -> list[str]:
    """Names of functions a module's source decorates with a hook decorator, read without
    importing it (a module nobody imports would otherwise hide them)."""
    stamp = os.stat(path).st_mtime_ns
    cached = _SOURCE_SCANS.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    aliases = set(_DECORATORS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            aliases.update(a.asname for a in node.names if a.name in _DECORATORS and a.asname)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                called = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = (called.id if isinstance(called, ast.Name) else
                        called.attr if isinstance(called, ast.Attribute) else None)
                if name in aliases:
                    found.append(node.name)
                    break
    _SOURCE_SCANS[path] = (stamp, found)
    return found


_SOURCE_SCANS: dict[str, tuple[int, list[str]]] = {}
"""Source scans by path, with the modification time they were made at."""


def unregistered(package: str, holders: Sequence[Any]) -> list[str]:
    """``module.function`` of every hook-decorated function of ``package`` that is not in
    a registered module: those imported (checked on the objects) and those not (read from
    the source)."""
    registered = {h.__name__ for h in holders if isinstance(h, ModuleType)}
    found: list[str] = []
    for name, module in sorted(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and name not in registered \
                and isinstance(module, ModuleType):
            found.extend(f"{f.__module__}.{f.__qualname__}" for f in _functions(module))
    root = sys.modules.get(package)
    for directory in getattr(root, "__path__", ()):
        for folder, subfolders, files in os.walk(directory):
            subfolders[:] = sorted(d for d in subfolders if d not in _NOT_SCANNED)
            relative = os.path.relpath(folder, directory)
            prefix = package if relative == "." else \
                f"{package}.{relative.replace(os.sep, '.')}"
            for file in sorted(files):
                if not file.endswith(".py"):
                    continue
                stem = file.removesuffix(".py")
                module_name = prefix if stem == "__init__" else f"{prefix}.{stem}"
                if module_name in registered or module_name in sys.modules:
                    continue
                found.extend(f"{module_name}.{function}" for function in
                             _decorated_in_source(os.path.join(folder, file)))
    return found


class Dispatcher:
    """Every hook implementation and subscription of one booted set of plugins, sorted once
    by the one ordering rule; ``call`` runs a hook, ``notify`` a transition or write."""

    def __init__(self, subscribers: Mapping[str, Sequence[Subscriber]] | None = None,
                 specs: Any = None) -> None:
        self._subscribers = {hook: tuple(sorted(found, key=Subscriber.sort_key))
                             for hook, found in (subscribers or {}).items()}
        self._specs = specs
        self._by_entity: dict[tuple[str, str], tuple[Subscriber, ...]] = {}

    @classmethod
    def build(cls, specs: Any, plugins: Sequence[PluginHooks]) -> Dispatcher:
        """Collect, check and order the hooks of ``plugins`` against the hookspecs known to
        ``specs`` (a ``pluggy.PluginManager``); a plugin's ``erp_add_hookspecs`` is called
        first, so its dependents may implement the hooks it adds. Raises ``PluginError``
        naming the plugin and the function for an unregistered decorated function, a hook
        no spec declares, or a hook taking an argument the hook does not pass."""
        found: dict[str, list[Subscriber]] = {}
        for plugin in plugins:
            if plugin.package is not None:
                stray = unregistered(plugin.package, plugin.holders)
                if stray:
                    module, _, function = stray[0].rpartition(".")
                    raise PluginError(
                        f"plugin {plugin.name!r}: {function} in {module} is a hook or"
                        f" subscriber, but {module} is not registered, so it would never"
                        f" run; add {module.removeprefix(plugin.package + '.')!r} to"
                        " `modules` in the plugin's PluginManifest",
                        plugin=plugin.name, distribution=plugin.distribution)
            seen: set[int] = set()
            for holder in plugin.holders:
                for function in _functions(holder):
                    if id(function) in seen:
                        continue
                    seen.add(id(function))
                    for subscription in marks_of(getattr(function, "__func__", function)):
                        found.setdefault(subscription.hook, []).append(Subscriber(
                            plugin.name, function, subscription, plugin.rank,
                            plugin.distribution, tuple(inspect.signature(function).parameters)))
        dispatcher = cls(found, specs)
        for subscriber in dispatcher.subscribers("erp_add_hookspecs"):
            dispatcher._run(subscriber, {"pluginmanager": specs}, "erp_add_hookspecs")
        checked: dict[str, list[Subscriber]] = {}
        for hook, subscribers in dispatcher._subscribers.items():
            spec = getattr(getattr(specs, "hook", None), hook, None)
            if spec is None or not spec.has_spec():
                culprit = next((s for s in subscribers if not s.subscription.optional), None)
                if culprit is not None:
                    raise PluginError(
                        f"{culprit.describe()} implements {hook!r}, which no kernel or"
                        " dependency hookspec declares; fix the name, add the plugin"
                        " defining it to `depends`, or mark it `optionalhook=True`",
                        plugin=culprit.plugin, distribution=culprit.distribution)
                continue
            for subscriber in subscribers:
                extra = [a for a in subscriber.argnames if a not in spec.spec.argnames]
                if extra:
                    raise PluginError(
                        f"{subscriber.describe()} has an invalid hook implementation of"
                        f" {hook!r}: it takes {', '.join(map(repr, extra))}, which the hook"
                        f" does not pass (it passes {', '.join(spec.spec.argnames) or 'none'})",
                        plugin=subscriber.plugin, distribution=subscriber.distribution)
            checked[hook] = list(subscribers)
        return cls(checked, specs)

    def subscribers(self, hook: str) -> tuple[Subscriber, ...]:
        """The subscribers of ``hook``, in the order they run."""
        return self._subscribers.get(hook, ())

    def all(self) -> Iterator[Subscriber]:
        for subscribers in self._subscribers.values():
            yield from subscribers

    def for_entity(self, hook: str, entity: str) -> tuple[Subscriber, ...]:
        """The subscribers of ``hook`` that may want an event of ``entity``, in order;
        worked out once per hook and entity, as transitions and writes ask on every call."""
        key = (hook, entity)
        found = self._by_entity.get(key)
        if found is None:
            found = tuple(s for s in self.subscribers(hook)
                          if s.subscription.entity in (None, entity))
            self._by_entity[key] = found
        return found

    def wanted(self, hook: str, event: Any) -> bool:
        """Whether any subscriber of ``hook`` wants ``event``."""
        return any(s.wants(event) for s in self.for_entity(hook, event.entity))

    def notify(self, hook: str, ctx: Any, event: Any) -> bool:
        """Run the subscribers of ``hook`` that want ``event``; tells whether any ran."""
        ran = False
        for subscriber in self.for_entity(hook, event.entity):
            if subscriber.wants(event):
                ran = True
                self._run(subscriber, {"ctx": ctx, "event": event}, hook, event)
        return ran

    def call(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` on every implementation, in order, with the arguments each takes;
        returns ``(plugin, result)`` pairs."""
        return [(s.plugin, self._run(s, kwargs, hook)) for s in self.subscribers(hook)]

    @staticmethod
    def _run(subscriber: Subscriber, kwargs: Mapping[str, Any], hook: str,
             event: Any = None) -> Any:
        try:
            return subscriber.function(**{name: kwargs[name] for name in subscriber.argnames})
        except ErpError:
            raise
        except Exception as exc:
            if event is None:
                where, outcome = hook, ""
            else:  # a transition or a write: the caller's transaction rolls it all back
                what = getattr(event, "transition", None) or getattr(event, "action", "")
                where = f"{hook} of {event.entity} {what!r}"
                outcome = "; nothing was changed"
            raise PluginError(
                f"{subscriber.describe()} failed in {where}: {type(exc).__name__}: {exc}"
                f"{outcome}", plugin=subscriber.plugin,
                distribution=subscriber.distribution) from exc

    def relay(self) -> HookRelay:
        return HookRelay(self)


class HookRelay:
    """``kernel.hook.<name>(**kwargs)``: a plugin calls the hooks it declared itself through
    the same dispatcher. Returns the results that are not ``None``, in order (the first
    one alone for a ``firstresult`` hookspec)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def __getattr__(self, hook: str) -> Callable[..., Any]:
        specs = self._dispatcher._specs
        caller = getattr(getattr(specs, "hook", None), hook, None)
        if caller is None or not caller.has_spec():
            raise AttributeError(f"no hookspec declares {hook!r}")
        first = bool(caller.spec.opts.get("firstresult"))

        def call(**kwargs: Any) -> Any:
            results = [r for _plugin, r in self._dispatcher.call(hook, **kwargs)
                       if r is not None]
            if first:
                return results[0] if results else None
            return results

        return call
