"""``erp serve`` and ``erp demo``: the HTTP API behind a production ASGI server (uvicorn)."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import click

from erp_core.cli.context import CliContext
from erp_core.errors import ConfigurationError

log = logging.getLogger("erp.cli")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_in_process(state: CliContext, host: str, port: int) -> None:
    import uvicorn

    from erp_core.api.app import create_app

    app = create_app(state.kernel(boot=True))
    sock = _bind(host, port)
    url = _url(host, sock.getsockname()[1])
    click.echo(f"API: {url}  reference: {url}/schema", nl=True)
    click.get_text_stream("stdout").flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes, each with its own kernel.")
@click.pass_obj
def serve(state: CliContext, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API until interrupted."""
    kernel = state.kernel()
    if not kernel.is_initialised():
        raise ConfigurationError("the database is not initialised; run `erp init` first")
    behind = kernel.pending_migrations()
    if behind:
        raise ConfigurationError(
            f"the database schema of {', '.join(behind)} is behind; run `erp migrate` first")
    if workers == 1:
        _serve_in_process(state, host, port)
        return
    import uvicorn

    os.environ["ERP_DATABASE_URL"] = kernel.settings.database_url
    kernel.boot()  # fail here, once, rather than in every worker
    click.echo(f"API: {_url(host, port)}  reference: {_url(host, port)}/schema")
    uvicorn.run("erp_core.api.asgi:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to create (default: erp-demo.db here, replaced on each run).")
@click.pass_obj
def demo(state: CliContext, host: str, port: int, db_path: Path | None) -> None:
    """A fresh SQLite database with every installed plugin and its demo data, served."""
    if db_path is None:
        db_path = Path("erp-demo.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    elif db_path.exists():
        raise ConfigurationError(f"{db_path} already exists; the demo needs a new file")
    state.database_url = f"sqlite:///{db_path.resolve()}"
    kernel = state.kernel()
    kernel.initialise()
    usable = [name for name in kernel.plugins.order]
    for plugin in kernel.plugins.broken:
        click.echo(f"warning: left out {plugin.name}: {plugin.error}", err=True)
    if usable:
        kernel.enable(usable)
    kernel.boot()
    from erp_core.security.accounts import create_token, create_user
    from erp_core.security.permissions import ADMIN_ROLE

    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)
        create_user(session, "admin", [ADMIN_ROLE])
        _token, secret = create_token(session, "admin")
    click.echo(f"database: {db_path} ({len(usable)} plugins: {', '.join(usable) or 'none'})")
    click.echo(f"Admin token: {secret}")
    _serve_in_process(state, host, port)
