"""``hotline serve``: gunicorn serving the app, the address checked first, a banner of URLs."""

from __future__ import annotations

import errno
import ipaddress
import socket

import click
from flask import Flask
from rich.console import Console

from hotline.agents import login
from hotline.agents.roster import DEMO_TOKEN
from hotline.config.settings import load_settings
from hotline.errors import HotlineError
from hotline.web import security
from hotline.web.webhook import SETTINGS

# Lines stay whole when the output goes to a pipe or a log (rich would wrap them at 80 columns).
console = Console(soft_wrap=True)


@click.command()
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
    from hotline.access_log import AccessLog

    app = create_app(None)  # fail here, with a clear message, before any worker starts
    app.extensions["hotline.store"].engine.dispose()  # no pooled connection across fork()
    settings = load_settings(None)
    check_port_is_free(host, port)
    url_host = f"[{host}]" if is_ipv6(host) else host
    banner(app, settings.public_base_url, settings.check_signatures, url_host, port)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", bind_address(host, port))
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("logger_class", AccessLog)  # no buyer's link secret in a log line
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


def bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn's ``bind`` reads it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if is_ipv6(host) else f"{host}:{port}"


def is_ipv6(host: str) -> bool:
    """Whether ``host`` is an IPv6 address (written in brackets in URLs and binds)."""
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def check_port_is_free(host: str, port: int) -> None:
    """Refuse, in one line and before the banner, an address gunicorn could not listen on.

    Left to gunicorn, a busy port shows as the "serving" banner followed by seconds of retries
    and a log line. A bind and close here, with gunicorn's own socket option (SO_REUSEADDR: a
    port left in TIME_WAIT by a stopped server counts as free), catches it at once; a port
    taken in the instant between the two binds is still gunicorn's to report.
    """
    family = socket.AF_INET6 if is_ipv6(host) else socket.AF_INET
    address = bind_address(host, port)
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


def banner(app: Flask, public: str | None, checks: bool, host: str, port: int) -> None:
    """Print where it listens, the URLs to give Twilio and whether signatures are checked."""
    local = f"http://{host}:{port}"
    console.print(f"[bold]hotline[/] serving on {local}")
    console.print(f"  Voice URL (POST):   [cyan]{(public or local)}/voice[/]")
    console.print(f"  Voice fallback URL: [cyan]{(public or local)}/voice/fallback[/]")
    console.print(f"  Status callback:    {(public or local)}/voice/status")
    console.print(f"  Health check (GET): {local}/healthz  (for a load balancer)")
    console.print(
        f"  API:                {(public or local)}/api/threads  (Bearer $HOTLINE_API_TOKEN, or a "
        "seller's or agent's own token)"
    )
    guard = app.extensions[security.EXTENSION]
    agents = len(guard.roster.agents)
    console.print(
        f"  Agents:             {agents} configured; {(public or local)}/api/queue, "
        f"{(public or local)}/api/agents  (Bearer $HOTLINE_API_TOKEN, or an agent's own token)"
    )
    if login.sessions_on(app):
        console.print(
            f"  Console:            [cyan]{(public or local)}/agent[/]  "
            "(an agent signs in with their id and token)"
        )
        console.print(
            f"  Message Center:     [cyan]{(public or local)}/messages[/]  "
            "(a seller or a warehouse agent signs in with their token)"
        )
    else:
        console.print(
            f"  Console:            off: set ${login.SECRET_KEY_ENV} (the same for every worker)"
        )
    for agent in guard.roster.with_demo_token():
        console.print(
            f"  Demo agent:         id [cyan]{agent.id}[/], token [cyan]{DEMO_TOKEN}[/] "
            f"({agent.name}; the shipped demo token: replace its token_sha256 before anyone "
            "else can reach this server)"
        )
    for seller_id in security.sellers_with_demo_token(app.extensions[SETTINGS]):
        token = security.DEMO_SELLER_TOKEN
        console.print(
            f"  Demo seller:        [cyan]{seller_id}[/], token [cyan]{token}[/] (the Message "
            "Center's pages and API: Authorization: Bearer <token>; the shipped demo token)"
        )
    if not public:
        console.print(
            "  Callbacks:          [yellow]not offered[/] until \\[hotline] public_base_url is set "
            "(Twilio fetches a callback's webhooks there; a caller asking for one is told to call "
            "again when the hotline opens)"
        )
    if checks:
        shared_key = " and SharedKey-signed ones ($TWILIO_WEBHOOK_SHARED_KEY)"
        has_shared_key = guard.shared_key_validator is not None
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
