"""The ``hotline`` command: serve, migrate, check flows, list threads, replay calls."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.config.settings import CONFIG_ENV, load_settings
from hotline.errors import ConfigError, HotlineError
from hotline.web import security

# Lines stay whole when the output goes to a pipe or a log (rich would wrap them at 80 columns).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _create_app() -> Flask:
    from hotline import create_app

    return create_app(None)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        os.environ[CONFIG_ENV] = value
    return value


@click.group(cls=AppGroup)
@click.option(
    "--config",
    metavar="PATH",
    expose_value=False,
    is_eager=True,
    callback=_set_config,
    help="Config file (default: $HOTLINE_CONFIG, else ./config.toml).",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """hotline: the marketplace fulfillment hotline on Twilio Voice."""
    # Commands that need the app build it lazily through Flask's ScriptInfo, so --help and the
    # commands that need no app work even when the app could not start.
    if not isinstance(ctx.obj, ScriptInfo):
        ctx.obj = ScriptInfo(
            create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False
        )


@cli.command(with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),  # gunicorn listens with 0 workers, and nothing ever answers
    help="gunicorn worker processes.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the webhooks and the API with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from hotline import create_app

    app = create_app(None)  # fail here, with a clear message, before any worker starts
    app.extensions["hotline.store"].engine.dispose()  # no pooled connection across fork()
    settings = load_settings(None)
    _check_port_is_free(host, port)
    url_host = f"[{host}]" if _is_ipv6(host) else host
    _banner(app, settings.public_base_url, settings.check_signatures, url_host, port)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", _bind_address(host, port))
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            # [hotline] trusted_proxies is the one switch for forwarded headers (the app's
            # ProxyFix): gunicorn would otherwise take X-Forwarded-Proto & co. from loopback
            # peers itself and change the scheme the signature check uses.
            self.cfg.set("forwarded_allow_ips", "")
            self.cfg.set("secure_scheme_headers", {})
            # gunicorn 27 opens a control socket at one path per user, which every other
            # server of that user (a second hotline, the benchmarks) would take over.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return create_app(None)

    _Server().run()


def _bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn's ``bind`` reads it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if _is_ipv6(host) else f"{host}:{port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def _check_port_is_free(host: str, port: int) -> None:
    """Refuse, in one line and before the banner, an address gunicorn could not listen on.

    Left to gunicorn, a busy port shows as the "serving" banner followed by seconds of retries
    and a log line. A bind and close here, with gunicorn's own socket option (SO_REUSEADDR: a
    port left in TIME_WAIT by a stopped server counts as free), catches it at once; a port
    taken in the instant between the two binds is still gunicorn's to report.
    """
    family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
    address = _bind_address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            reason = f"unknown host ({exc.strerror})"
            raise HotlineError(f"cannot serve on {address}: {reason}") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "already in use (by another server? pick a port with --port)"
            elif exc.errno == errno.EACCES:
                reason = "permission denied (ports below 1024 need privileges; try --port 5000)"
            elif exc.errno == errno.EADDRNOTAVAIL:
                reason = "no such address on this machine (try --host 127.0.0.1 or 0.0.0.0)"
            else:
                reason = exc.strerror or str(exc)
            raise HotlineError(f"cannot serve on {address}: {reason}") from None


def _banner(app: Flask, public: str | None, checks: bool, host: str, port: int) -> None:
    local = f"http://{host}:{port}"
    console.print(f"[bold]hotline[/] serving on {local}")
    console.print(f"  Voice URL (POST):   [cyan]{(public or local)}/voice[/]")
    console.print(f"  Voice fallback URL: [cyan]{(public or local)}/voice/fallback[/]")
    console.print(f"  Status callback:    {(public or local)}/voice/status")
    console.print(
        f"  API:                {(public or local)}/api/threads  (Bearer $HOTLINE_API_TOKEN)"
    )
    if checks:
        shared_key = " and SharedKey-signed ones ($TWILIO_WEBHOOK_SHARED_KEY)"
        has_shared_key = app.extensions[security.EXTENSION].shared_key_validator is not None
        console.print(
            "  Signature checks:   [green]on[/] ($TWILIO_AUTH_TOKEN"
            + (shared_key if has_shared_key else "")
            + ")"
        )
    else:
        console.print("  Signature checks:   [bold red]OFF — local use only[/]")
    console.print(
        "  To take real calls: expose this port over https (a tunnel or a reverse proxy), set "
        "\\[hotline] public_base_url to that address, set $TWILIO_AUTH_TOKEN to your account's "
        "auth token, and set your Twilio number's Voice URL to <public address>/voice (POST) and "
        'its Voice Fallback URL ("Primary handler fails") to <public address>/voice/fallback.'
    )
    console.print(
        "  To try it without Twilio: [cyan].venv/bin/hotline call[/] (or .venv/bin/hotline replay)"
    )


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade", with_appcontext=False)
def db_upgrade() -> None:
    """Apply the migrations, then load the directory (sellers, orders) from the config."""
    from hotline.store.database import Store, sync_directory, upgrade_schema

    settings = load_settings(None)
    upgrade_schema(settings.store_url)
    store = Store(settings.store_url)
    sync_directory(store, settings)
    store.engine.dispose()
    console.print(
        f"database at the newest schema; {len(settings.sellers)} sellers and "
        f"{len(settings.orders)} orders loaded"
    )


@cli.group()
def flows() -> None:
    """The call flows in flows/."""


@flows.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Check flow files (default: flows/*.toml): links, prompts, unreachable steps."""
    import tomllib

    from hotline.ivr.flow_file import check_flow, parse_flow

    if not paths:
        settings = load_settings(None)
        paths = tuple(sorted(settings.flows_folder().glob("*.toml")))
        if not paths:
            raise ConfigError(
                f"{settings.source}: hotline.flows_dir: no flow files (*.toml) in "
                f"{settings.flows_dir}"
            )
    failed = 0
    for path in paths:
        try:
            flow = parse_flow(tomllib.loads(path.read_text(encoding="utf-8")), path)
            problems = check_flow(flow)
        except (HotlineError, tomllib.TOMLDecodeError) as exc:
            problems = [str(exc)]
            flow = None
        if problems:
            failed += 1
            console.print(f"[red]✗[/] {path}")
            for problem in problems:
                console.print(f"    {problem}", markup=False)
        elif flow is not None:
            console.print(
                f"[green]✓[/] {path}: {len(flow.steps)} steps, all reachable; "
                f"languages {', '.join(flow.languages)} complete"
            )
    if failed:
        raise SystemExit(1)


@cli.command(with_appcontext=False)
@click.option("--seller", help="Only this seller's threads.")
@click.option("--party", type=click.Choice(["seller", "warehouse"]), help="Only this party's.")
@click.option("--limit", default=50, show_default=True, type=int)
def threads(seller: str | None, party: str | None, limit: int) -> None:
    """List Message Center threads in a table."""
    from hotline.messages.threads import reference
    from hotline.store.database import Store
    from hotline.store.models import ThreadRow

    # Only the store is needed: no app, so no Twilio auth token either.
    store = Store(load_settings(None).store_url)
    try:
        store.require_current_schema()
    except HotlineError:
        store.engine.dispose()
        raise
    query = select(ThreadRow).order_by(ThreadRow.id.desc()).limit(limit)
    if seller:
        query = query.where(ThreadRow.seller_id == seller)
    if party:
        query = query.where(ThreadRow.party == party)
    table = Table("ref", "opened (UTC)", "party", "seller", "order", "topic", "question")
    with store.session() as session:
        rows = session.scalars(query.options(selectinload(ThreadRow.messages))).all()
        for t in rows:
            first = t.messages[0].body if t.messages else ""
            table.add_row(
                reference(t.id),
                f"{t.created_at:%Y-%m-%d %H:%M}",
                t.party,
                t.seller_id or "-",
                t.order_id or "-",
                t.topic or "-",
                first,
            )
    store.engine.dispose()
    if rows:
        console.print(table)
    else:
        console.print("no threads yet")


def _add_sim_commands() -> None:
    from hotline.sim.frontends.replay import call, replay

    cli.add_command(replay)
    cli.add_command(call)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``hotline`` console script: clean one-line errors, no tracebacks."""
    _add_sim_commands()
    try:
        return cli.main(args=argv, prog_name="hotline", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HotlineError as exc:
        # soft_wrap: one line however long (rich would break it at 80 columns in a pipe or log).
        err_console.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        sys.exit(2)
