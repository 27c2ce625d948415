"""The kernel's error hierarchy.

Every error a seller or an integrator can cause is an ``ErpError``; the HTTP API maps
each subclass to one status code in one place (``erp_core.api.problems``) and the CLI
prints its message without a traceback. Plugins subclass these, never ``Exception``.
"""

from __future__ import annotations

from collections.abc import Mapping


class ErpError(Exception):
    """Base of every error the kernel or a plugin raises on purpose."""

    status_code = 400
    title = "Request failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ErpError):
    """Input is malformed or breaks a rule; ``errors`` maps a field to what is wrong with it."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class NotFoundError(ErpError):
    """The record does not exist, or the principal may not see it."""

    status_code = 404
    title = "Not found"


class PermissionDenied(ErpError):
    """The principal is known but lacks the permission for this action."""

    status_code = 403
    title = "Permission denied"


class AuthenticationRequired(ErpError):
    """No valid credentials were presented."""

    status_code = 401
    title = "Authentication required"


class ConflictError(ErpError):
    """The action clashes with the current state of the data (wrong workflow state, duplicate)."""

    status_code = 409
    title = "Conflict"


class PreconditionFailed(ConflictError):
    """An optimistic-concurrency check failed: the record changed since it was read."""

    status_code = 412
    title = "Precondition failed"


class TransientConflict(ErpError):
    """The database aborted the transaction because of a clash with a concurrent one (a
    deadlock, a serialization failure), or a plugin found that one moved the data it
    locks. The transaction was rolled back; the same work, run again from the start,
    normally succeeds. ``Kernel.run`` and the HTTP API run it again by themselves, a few
    times, unless part of it was already committed, before they give up with this
    error."""

    status_code = 503
    title = "Concurrent update, try again"


class PluginError(ErpError):
    """A plugin cannot be loaded, validated or enabled; the message names it and says what to do."""

    status_code = 500
    title = "Plugin error"

    def __init__(self, message: str, *, plugin: str | None = None,
                 distribution: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.distribution = distribution


class ConfigurationError(ErpError):
    """The kernel's settings (environment, database URL) are unusable."""

    status_code = 500
    title = "Configuration error"
