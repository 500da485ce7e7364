"""The benchmark's floor: the cheapest webhook that is signed and committed, and nothing more.

Like ``bare_app`` it reads the form and answers fixed TwiML; before that it checks Twilio's
signature (the HMAC-SHA1 of the URL Twilio requested and the sorted form, compared in constant
time: Twilio's documented algorithm, which ``hotline/web/signature.py`` computes the same way)
and commits one row to SQLite the way hotline's store does: WAL, ``synchronous=NORMAL``, the write
lock taken up front, writers queued on a file lock beside the database (``<file>.lock``) so two
workers never meet in SQLite's busy sleep, and the WAL checkpointed after the lock is released
rather than inside ``COMMIT`` (both as ``hotline/store/write_lock.py`` does). No call
state, no flow, no ORM, and none of hotline's code: what this costs over the bare app no design
of a signed webhook that is committed before it answers can avoid on the machine the benchmark
runs on. It keeps no call, though: nothing is read back, and a retried request adds a second row.
``state_floor_app`` adds that part of hotline's guarantees (the call's state read back from the
store, a retry's append refused by its key).

Environment: ``TWILIO_AUTH_TOKEN``; ``FLOOR_SIGNED_BASE``, the base URL the bodies were signed for
(the benchmark signs for hotline's server, as Twilio would); ``FLOOR_DATABASE``, a SQLite file path.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from bare_app import TWIML
from flask import Flask, Response, request

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS webhook_log ("
    "id INTEGER PRIMARY KEY, call_sid VARCHAR(64), at DATETIME, step VARCHAR(64))"
)
INSERT = "INSERT INTO webhook_log (call_sid, at, step) VALUES (?, ?, ?)"
CHECKPOINT_EVERY = 500  # commits of one worker between its checkpoints, outside the lock


class Writer:
    """One thread's connection and its own descriptor of the lock file."""

    def __init__(self, database: str, schema: str | None = SCHEMA) -> None:
        self.conn = sqlite3.connect(database, timeout=5, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA wal_autocheckpoint=10000")  # a backstop only
        if schema is not None:  # None: the table exists (made by hotline's migrations)
            self.conn.execute(schema)
        self.lock = os.open(database + ".lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self.commits = 0

    def commit(self, statement: str, values: Sequence[object]) -> None:
        """Run ``statement`` in a write transaction and commit it, queued behind any other
        writer on the file lock."""
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute(statement, values)
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                self.conn.execute("ROLLBACK")  # the kept connection must not stay in a transaction
                raise
        finally:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.commits += 1
        if self.commits % CHECKPOINT_EVERY == 0:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


# What a webhook does with the store, given its thread's writer, the CallSid, the step ("incoming"
# for the greeting) and the form.
StoreWork = Callable[[Writer, str, str, Mapping[str, str]], None]


def create_app() -> Flask:
    """A Flask app answering every webhook path hotline's benchmark posts to."""
    return webhook_app(_log_row)


def _log_row(writer: Writer, sid: str, step: str, _form: Mapping[str, str]) -> None:
    writer.commit(INSERT, (sid, datetime.now(UTC).isoformat(" "), step))


def webhook_app(work: StoreWork, schema: str | None = SCHEMA) -> Flask:
    """The floor's app with ``work`` as each signed webhook's store work (``schema``: the table
    each thread's connection creates first; None when the database already has it)."""
    app = Flask(__name__)
    key = os.environ["TWILIO_AUTH_TOKEN"].encode()
    signed_base = os.environ["FLOOR_SIGNED_BASE"].rstrip("/")
    database = os.environ["FLOOR_DATABASE"]
    local = threading.local()

    @app.post("/voice")
    @app.post("/voice/step/<name>")
    def webhook(name: str = "") -> Response:
        form = request.form
        sid = form.get("CallSid")
        if not sid:
            return Response("no CallSid", status=400)
        query = request.query_string.decode("latin-1")
        url = signed_base + request.path + (f"?{query}" if query else "")
        signed = url + "".join([k + v for k, v in sorted(form.items())])
        expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha1).digest())
        given = request.headers.get("X-Twilio-Signature", "").encode()
        if not hmac.compare_digest(expected, given):
            return Response("bad signature", status=403)
        writer: Writer | None = getattr(local, "writer", None)
        if writer is None:
            writer = local.writer = Writer(database, schema)
        work(writer, sid, name or "incoming", form)
        return Response(TWIML, status=200, mimetype="text/xml")

    return app
