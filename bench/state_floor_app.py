"""The benchmark's second floor: the floor plus the store work a call's state needs.

``floor_app`` commits one row and keeps no call: nothing is read back, and a retried request
adds a second row. hotline must do more with the store whatever its code is like: a call's state
lives in the store (a worker killed between two webhooks loses nothing), so each step reads it
back, and each row is appended under the key ``(call_sid, seq)``, so a retry that finds its key
taken writes nothing. This app does exactly that on the table ``hotline db upgrade`` makes
(``call_events``: the same columns, the same key, rows as wide as hotline's) and nothing else:
the greeting appends the call's first row, a step reads the call's latest row by its key
(outside the write lock, as hotline does) and appends the next one carrying the state, both
through ``floor_app``'s lock-serialised commit. No flow, no ORM, none of hotline's code at
request time. What hotline costs over this is its own work; what this costs over ``floor_app``
is the state work hotline's guarantees ask for, done as cheaply as hotline's store does it.

Environment: as ``floor_app``; ``FLOOR_DATABASE`` must be a database ``hotline db upgrade`` made.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

from bare_app import TWIML
from flask import Flask, Response, request
from floor_app import signature_ok, writer_of

# The columns of ``call_events`` a step carries from the call's latest row to its next one.
STATE = (
    "from_number",
    "to_number",
    "language",
    "started_at",
    "call_step",
    "topic",
    "order_id",
    "seller_id",
    "question",
    "seller_accepted",
    "dial_status",
    "queue_result",
    "thread_id",
    "outcome",
)
CALL_STEP = STATE.index("call_step")
EVENT = ("call_sid", "seq", "at", "step", "input", "decision")
# The call's latest row, as hotline's store reads it (one keyed read, its seq first).
LATEST = (
    f"SELECT seq, {', '.join(STATE)} FROM call_events WHERE call_sid = ? "
    "AND seq = (SELECT max(seq) FROM call_events WHERE call_sid = ?)"
)
# The next row; a retry finds its (call_sid, seq) taken and writes nothing.
APPEND = (
    f"INSERT INTO call_events ({', '.join(EVENT + STATE)}) "
    f"VALUES ({', '.join('?' * (len(EVENT) + len(STATE)))}) "
    "ON CONFLICT (call_sid, seq) DO NOTHING"
)
FIRST_STEP = "main_menu"


def _now() -> str:
    """The time now as SQLite's DATETIME text (as hotline's rows hold it)."""
    return datetime.now(UTC).isoformat(" ", "microseconds")[:26]


def create_app() -> Flask:
    """A Flask app answering the webhook paths hotline's benchmark posts to."""
    app = Flask(__name__)
    key = os.environ["TWILIO_AUTH_TOKEN"].encode()
    signed_base = os.environ["FLOOR_SIGNED_BASE"].rstrip("/")
    database = os.environ["FLOOR_DATABASE"]
    local = threading.local()

    @app.post("/voice")
    def greeting() -> Response:
        form = request.form
        sid = form.get("CallSid")
        if not sid:
            return Response("no CallSid", status=400)
        if not signature_ok(key, signed_base, form):
            return Response("bad signature", status=403)
        now = _now()
        state = (form.get("From"), form.get("To"), "en", now, FIRST_STEP) + (None,) * 9
        row = (sid, 1, now, "incoming", None, FIRST_STEP, *state)
        writer_of(local, database, schema=None).commit(APPEND, row)
        return Response(TWIML, status=200, mimetype="text/xml")

    @app.post("/voice/step/<name>")
    def step(name: str) -> Response:
        form = request.form
        sid = form.get("CallSid")
        if not sid:
            return Response("no CallSid", status=400)
        if not signature_ok(key, signed_base, form):
            return Response("bad signature", status=403)
        writer = writer_of(local, database, schema=None)
        latest = writer.conn.execute(LATEST, (sid, sid)).fetchone()
        if latest is None:  # a call never greeted: answered, nothing written (as hotline)
            return Response(TWIML, status=200, mimetype="text/xml")
        seq, *state = latest
        state[CALL_STEP] = name
        row = (sid, seq + 1, _now(), name, f"digits={form.get('Digits', '')}", name, *state)
        writer.commit(APPEND, row)
        return Response(TWIML, status=200, mimetype="text/xml")

    return app
