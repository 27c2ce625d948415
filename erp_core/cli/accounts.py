"""``erp users``, ``erp tokens`` and ``erp roles``: who may use the API."""

from __future__ import annotations

import datetime as dt
import json
import re

import click

from erp_core.cli.context import CliContext
from erp_core.errors import ValidationError

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> dt.timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValidationError(f"{text!r} is not a duration such as 30d, 12h, 90m or 2w")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _scope(items: tuple[str, ...]) -> dict[str, list[object]]:
    scope: dict[str, list[object]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValidationError(f"--scope {item!r} must look like KEY=VALUE")
        scope.setdefault(key, []).append(int(value) if value.lstrip("-").isdigit() else value)
    return scope


@click.group()
def users() -> None:
    """Users of the API and their roles."""


@users.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="A role to grant (repeatable).")
@click.option("--scope", "scope", multiple=True, metavar="KEY=VALUE",
              help="A value record rules compare with, e.g. supplier_id=3 (repeatable).")
@click.pass_obj
def create_user_command(state: CliContext, name: str, roles: tuple[str, ...],
                        scope: tuple[str, ...]) -> None:
    """Create a user; without --role it can do nothing until granted one."""
    from erp_core.security.accounts import create_user

    kernel = state.kernel(boot=True)
    with kernel.transaction() as session:
        create_user(session, name, roles, _scope(scope), known_roles=kernel.permissions.roles)
    click.echo(f"user {name} created (roles: {', '.join(roles) or 'none'})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_users_command(state: CliContext, as_json: bool) -> None:
    """Every user with roles and scope."""
    from erp_core.security.accounts import list_users

    with state.kernel().transaction() as session:
        found = list_users(session)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for user in found:
        click.echo(f"{user['name']}  roles: {', '.join(user['roles']) or '-'}"
                   f"{'' if user['active'] else '  (inactive)'}")


@click.group()
def tokens() -> None:
    """API tokens: shown once when created, stored hashed."""


@tokens.command("create")
@click.argument("user")
@click.option("--expires", metavar="DURATION", help="Lifetime such as 30d, 12h or 2w.")
@click.pass_obj
def create_token_command(state: CliContext, user: str, expires: str | None) -> None:
    """Create a token for USER and print it (it cannot be shown again)."""
    from erp_core.db.types import utcnow
    from erp_core.security.accounts import create_token

    expires_at = utcnow() + parse_duration(expires) if expires else None
    with state.kernel().transaction() as session:
        token, secret = create_token(session, user, expires_at)
    click.echo(secret)
    click.echo(f"token id {token.id} for {user}"
               f"{', expires ' + expires_at.isoformat() if expires_at else ''};"
               " store it now: it is not shown again", err=True)


@tokens.command("list")
@click.argument("user")
@click.pass_obj
def list_tokens_command(state: CliContext, user: str) -> None:
    """The tokens of USER (ids and dates, never the secrets)."""
    from erp_core.security.accounts import list_tokens

    with state.kernel().transaction() as session:
        for token in list_tokens(session, user):
            status = "revoked" if token.revoked_at else "active"
            click.echo(f"{token.id}  {status}  created {token.created_at.isoformat()}"
                       f"  expires {token.expires_at.isoformat() if token.expires_at else 'never'}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def revoke_token_command(state: CliContext, token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    from erp_core.security.accounts import revoke_token

    with state.kernel().transaction() as session:
        revoke_token(session, token_id)
    click.echo(f"token {token_id} revoked")


@click.group()
def roles() -> None:
    """Roles declared by the enabled plugins."""


@roles.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_roles_command(state: CliContext, as_json: bool) -> None:
    """Every role with the permissions it grants."""
    kernel = state.kernel(boot=True)
    data = {name: sorted(kernel.permissions.expand(name))
            for name in sorted(kernel.permissions.roles)}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for name, granted in data.items():
        click.echo(f"{name}: {len(granted)} permissions")
        for permission in granted:
            click.echo(f"  {permission}")
