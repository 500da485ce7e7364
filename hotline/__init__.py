"""hotline: a marketplace fulfillment phone hotline on Twilio Voice."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``config``: a TOML path, a mapping shaped like it, or ``None``.

    ``None`` reads ``$HOTLINE_CONFIG``, else ``./config.toml``. Raises ``ConfigError`` or
    ``FlowError`` naming the file and key when the configuration is unusable, and ``StoreError``
    naming the database and ``hotline db upgrade`` when it is missing or not at the newest schema.
    """
    from hotline.agents import console, login
    from hotline.config.settings import load_settings
    from hotline.errors import ConfigError
    from hotline.ivr.flow_file import load_flow
    from hotline.store import database as store
    from hotline.twilio_rest import client as twilio_rest
    from hotline.web import (
        agent_voice,
        agents_api,
        api,
        callback_voice,
        client_tokens_api,
        health,
        http_errors,
        limits,
        message_pages,
        metrics_api,
        security,
        threads_api,
        voice,
    )
    from hotline.web.flask_app import HotlineFlask

    settings = load_settings(config)
    settings.flow_file()  # a missing folder or file is an error naming its config key
    flow = load_flow(settings.flows_dir, settings.flow)
    for language in {settings.language, *settings.number_languages.values()}:
        if language not in flow.languages:
            raise ConfigError(
                f"{settings.source}: language {language!r} has no prompts in {flow.path} "
                f"(it has: {', '.join(flow.languages)})"
            )
    app = HotlineFlask(__name__)  # hotline's form parsing, URL rules and error log line
    limits.init_app(app, settings.max_request_bytes)
    security.init_app(app, settings)
    the_store = store.init_app(app, settings)  # refuses a missing or unmigrated database
    voice.init_app(app, settings, flow)
    http_errors.init_app(app)  # unknown /voice URLs answer TwiML, /api errors JSON
    agent_voice.init_app(app)
    callback_voice.init_app(app)  # /voice/callback: the calls the scheduler places to buyers
    twilio_rest.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(threads_api.bp)
    app.register_blueprint(agents_api.bp)
    app.register_blueprint(client_tokens_api.bp)
    app.register_blueprint(metrics_api.bp)
    app.register_blueprint(health.bp)
    console.init_app(app, settings, flow)  # /agent, and the session secret it signs with
    message_pages.init_app(app)  # /messages and the buyers' /t/<id>/<secret>, same sessions
    login.leave_out_of_sessions(app, voice.bp.url_prefix or "/voice")  # nobody signs in there
    store.sync_directory(the_store, settings)
    return app
