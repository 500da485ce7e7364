"""The benchmark's floor: the least a webhook with hotline's guarantees can do, and nothing more.

Like ``bare_app`` it reads the form and answers fixed TwiML; before that it checks Twilio's
signature with ``RequestValidator`` (one signature, for the URL Twilio requested) and commits one
row to SQLite the way hotline's store does (WAL, ``synchronous=NORMAL``, the write lock taken up
front), on a connection it keeps open. No call state, no flow, no ORM: whatever hotline measures
between this and the bare app is its own work; what this costs over the bare app no design of a
durable, signed webhook can avoid on the machine the benchmark runs on.

Environment: ``TWILIO_AUTH_TOKEN``; ``FLOOR_SIGNED_BASE``, the base URL the bodies were signed for
(the benchmark signs for hotline's server, as Twilio would); ``FLOOR_DATABASE``, a SQLite file path.
"""

from __future__ import annotations

import hmac
import os
import sqlite3
import threading
from datetime import UTC, datetime

from bare_app import TWIML
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS webhook_log ("
    "id INTEGER PRIMARY KEY, call_sid VARCHAR(64), at DATETIME, step VARCHAR(64))"
)


def create_app() -> Flask:
    """A Flask app answering every webhook path hotline's benchmark posts to."""
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    signed_base = os.environ["FLOOR_SIGNED_BASE"].rstrip("/")
    database = os.environ["FLOOR_DATABASE"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(database, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(SCHEMA)
        return conn

    @app.post("/voice")
    @app.post("/voice/step/<name>")
    def webhook(name: str = "") -> Response:
        form = request.form
        sid = form.get("CallSid")
        if not sid:
            return Response("no CallSid", status=400)
        query = request.query_string.decode("latin-1")
        url = signed_base + request.path + (f"?{query}" if query else "")
        expected = validator.compute_signature(url, form.to_dict(flat=True))
        given = request.headers.get("X-Twilio-Signature", "")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return Response("bad signature", status=403)
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO webhook_log (call_sid, at, step) VALUES (?, ?, ?)",
                (sid, datetime.now(UTC).isoformat(" "), name or "incoming"),
            )
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")  # the kept connection must not stay inside a transaction
            raise
        return Response(TWIML, status=200, mimetype="text/xml")

    return app
