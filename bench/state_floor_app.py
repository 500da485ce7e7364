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

from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Flask
from floor_app import Writer, webhook_app

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


def create_app() -> Flask:
    """A Flask app answering the webhook paths hotline's benchmark posts to."""
    return webhook_app(_keep_call, schema=None)  # the table is hotline's, made by its migrations


def _keep_call(writer: Writer, sid: str, step: str, form: Mapping[str, str]) -> None:
    now = datetime.now(UTC).isoformat(" ", "microseconds")[:26]  # SQLite's DATETIME text
    if step == "incoming":  # the greeting: the call's first row
        state = (form.get("From"), form.get("To"), "en", now, FIRST_STEP) + (None,) * 9
        writer.commit(APPEND, (sid, 1, now, step, None, FIRST_STEP, *state))
        return
    latest = writer.conn.execute(LATEST, (sid, sid)).fetchone()
    if latest is None:  # a call never greeted: answered, nothing written (as hotline does)
        return
    seq, *carried = latest
    carried[CALL_STEP] = step
    given = f"digits={form.get('Digits', '')}"
    writer.commit(APPEND, (sid, seq + 1, now, step, given, step, *carried))
