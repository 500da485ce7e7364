"""What ``hotline replay`` and ``hotline call`` share: the options naming the app, bad input."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hotline.sim.run.connection import Target

F = TypeVar("F", bound=Callable[..., Any])


class Unusable(click.ClickException):
    """Bad input to a command (a missing path, a malformed script): exit status 2, no traceback."""

    exit_code = 2


def target_options(command: F) -> F:
    """The options that say which app to call, shared by ``replay`` and ``call``."""
    options = [
        click.option(
            "--config",
            type=click.Path(path_type=Path, dir_okay=False),
            # `hotline --config FILE replay` sets it too (the top-level option sets the variable).
            envvar="HOTLINE_CONFIG",
            help="Build hotline from this config file (overrides a script's own config;"
            " default: $HOTLINE_CONFIG, else the script's, else ./config.toml).",
        ),
        click.option("--app", metavar="MODULE:FACTORY", help="Call any WSGI app instead."),
        click.option("--url", metavar="URL", help="Call a running server over HTTP instead."),
        click.option(
            "--base-url",
            metavar="URL",
            help="The public URL the app believes Twilio calls [default: --url or http://localhost].",
        ),
        click.option("--voice-path", default="/voice", show_default=True, help="The Voice URL."),
        click.option(
            "--voice-method",
            type=click.Choice(["GET", "POST"], case_sensitive=False),
            default="POST",
            show_default=True,
            help="How the number requests its Voice URL (its Twilio setting), for calls whose"
            " script does not say: GET sends the params in the query string.",
        ),
        click.option(
            "--fallback-url",
            metavar="URL",
            help="The number's Voice Fallback URL (a path or a URL), requested as Twilio does"
            " when a webhook fails, for calls whose script names none.",
        ),
        click.option(
            "--status-callback",
            metavar="URL",
            help="The number's status callback (a path or a URL): Twilio posts each call's end"
            " (CallStatus, CallDuration) there, for calls whose script names none.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Refuse TwiML attributes the simulator does not play (UnsupportedTwiML) instead"
            " of a warning in the report, as Twilio's 12200.",
        ),
        click.option(
            "--rest-port",
            type=click.IntRange(min=0, max=65535),
            default=None,
            help="With --url: serve the stand-in for Twilio's REST API on 127.0.0.1:PORT (0: any"
            " free port, shown); start the app with TWILIO_API_URL=http://127.0.0.1:PORT."
            " In-process apps always reach it (TWILIO_API_URL=inprocess://hotline-sim).",
        ),
        click.option(
            "--account-sid",
            envvar="TWILIO_ACCOUNT_SID",
            default=None,
            help="The account the calls are of: their AccountSid, and the REST stand-in's"
            " credentials with the auth token [env: TWILIO_ACCOUNT_SID; default: a fixed one].",
        ),
        click.option(
            "--auth-token",
            envvar="TWILIO_AUTH_TOKEN",
            default=None,
            help="Sign webhooks with this token [env: TWILIO_AUTH_TOKEN].",
        ),
        click.option(
            "--api-token",
            envvar="HOTLINE_API_TOKEN",
            default=None,
            help="Bearer token for [[expect.api]] checks [env: HOTLINE_API_TOKEN].",
        ),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapped(**kwargs: Any) -> Any:
        chosen = [name for name in ("config", "app", "url") if kwargs[name]]
        if len(chosen) > 1:
            raise click.UsageError(
                f"choose one of --config, --app, --url (got {', '.join(chosen)})"
            )
        account = kwargs["account_sid"]
        if account is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", account):
            raise click.BadParameter(
                f"expected AC and 32 hex digits, got {account!r}", param_hint="--account-sid"
            )
        if kwargs["rest_port"] is not None and not kwargs["url"]:
            raise click.UsageError(
                "--rest-port is for --url: an in-process app reaches the REST stand-in already"
            )
        if kwargs["rest_port"] is not None and kwargs.get("jobs", 1) > 1:
            raise click.UsageError(
                "--rest-port needs -j 1: the running app can reach one REST stand-in only"
            )
        kwargs["target"] = Target(
            auth_token=kwargs.pop("auth_token"),
            api_token=kwargs.pop("api_token"),
            url=kwargs.pop("url"),
            app=kwargs.pop("app"),
            config=kwargs.pop("config"),
            base_url=kwargs.pop("base_url"),
            voice_path=kwargs.pop("voice_path"),
            voice_method=kwargs.pop("voice_method").upper(),
            strict=kwargs.pop("strict"),
            fallback_url=kwargs.pop("fallback_url"),
            status_callback=kwargs.pop("status_callback"),
            rest_port=kwargs.pop("rest_port"),
            account_sid=kwargs.pop("account_sid"),
        )
        return command(**kwargs)

    return wrapped  # type: ignore[return-value]
