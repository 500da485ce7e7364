"""Prepared statements: compiled once, run on the driver, values processed as SQLAlchemy would."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.pool import PoolProxiedConnection

from hotline.store.database import Store
from hotline.store.models import CallEventRow, UTCDateTime
from hotline.store.prepared import Prepared, values_reader
from tests.conftest import postgresql_dialect

# A table of every kind of column the store has (the shape of a call's state, keyed by sid), made
# for these tests: what is checked here is how statements run on the driver, for any table.
METADATA = MetaData()
CALLS = Table(
    "calls",
    METADATA,
    Column("sid", String(64), primary_key=True),
    Column("from_number", String(32)),
    Column("to_number", String(32)),
    Column("language", String(8), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("step", String(64), nullable=False),
    Column("topic", String(32)),
    Column("order_id", String(32)),
    Column("seller_id", String(64)),
    Column("question", Text),
    Column("seller_accepted", Boolean, nullable=False, default=False),
    Column("dial_status", String(32)),
    Column("queue_result", String(32)),
    Column("thread_id", Integer),
    Column("outcome", String(32)),
)
EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
CALL_COLUMNS: list[Column[Any]] = list(CALLS.columns)
SID = "CA00000000000000000000000000000001"
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def store(store: Store) -> Store:
    """The test store, with the ``calls`` table of these tests."""
    METADATA.create_all(store.engine)
    return store


@pytest.fixture
def raw(store: Store) -> Iterator[PoolProxiedConnection]:
    """A pooled DBAPI connection of the store (what the webhooks run prepared statements on)."""
    connection = store.engine.raw_connection()
    yield connection
    connection.close()


def call_values(**overrides: Any) -> dict[str, Any]:
    """Every column of a ``calls`` row, with aware datetimes."""
    values: dict[str, Any] = {
        "sid": SID,
        "from_number": "+48601100200",
        "to_number": "+442071000000",
        "language": "en",
        "started_at": datetime(2026, 6, 10, 10, 30, 0, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 6, 10, 10, 31, 5, tzinfo=UTC),
        "step": "menu",
        "topic": None,
        "order_id": "1234567",
        "seller_id": "acme",
        "question": None,
        "seller_accepted": False,
        "dial_status": None,
        "queue_result": None,
        "thread_id": None,
        "outcome": None,
    }
    values.update(overrides)
    return values


def run(raw: PoolProxiedConnection, prepared: Prepared, values: Mapping[str, Any]) -> None:
    """Execute ``prepared`` and commit, as a webhook's save does."""
    cursor = raw.cursor()
    try:
        prepared.execute(cursor, values)
    finally:
        cursor.close()
    raw.commit()


def fetch(raw: PoolProxiedConnection, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
    """The driver's rows for ``prepared``, unprocessed."""
    cursor = raw.cursor()
    try:
        prepared.execute(cursor, values)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def insert_call(store: Store) -> Prepared:
    return Prepared.compile(
        insert(CALLS).values({c.key: bindparam(c.key) for c in CALL_COLUMNS}),
        store.engine.dialect,
    )


def select_call(store: Store) -> Prepared:
    return Prepared.compile(
        select(*CALL_COLUMNS).where(CALLS.c.sid == bindparam("sid")), store.engine.dialect
    )


def read_call(store: Store, raw: PoolProxiedConnection, sid: str = SID) -> dict[str, Any]:
    rows = fetch(raw, select_call(store), {"sid": sid})
    assert len(rows) == 1
    return by_name(CALL_COLUMNS, store.engine.dialect, rows[0])


def by_name(columns: list[Column[Any]], dialect: Any, row: Any) -> dict[str, Any]:
    """``row`` read by ``values_reader``, keyed by column name."""
    return dict(zip([c.key for c in columns], values_reader(columns, dialect)(row), strict=True))


def orm_call(store: Store, sid: str = SID) -> dict[str, Any]:
    """The row as SQLAlchemy reads it (its own execution and result processing)."""
    with store.session() as session:
        row = session.execute(select(CALLS).where(CALLS.c.sid == sid)).one()
        return dict(row._mapping)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param(
            datetime(2026, 6, 10, 10, 30, tzinfo=UTC), datetime(2026, 6, 10, 10, 30), id="utc"
        ),
        pytest.param(
            datetime(2026, 6, 10, 12, 30, tzinfo=WARSAW),
            datetime(2026, 6, 10, 10, 30),
            id="warsaw summer",
        ),
        pytest.param(
            datetime(2026, 1, 1, 0, 15, tzinfo=WARSAW),
            datetime(2025, 12, 31, 23, 15),
            id="warsaw winter, previous day in UTC",
        ),
        pytest.param(
            datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            datetime(2026, 3, 1, 6, 30),
            id="odd negative offset",
        ),
    ],
)
def test_call_row_round_trips_through_the_driver(
    store: Store, raw: PoolProxiedConnection, given: datetime, stored: datetime
) -> None:
    values = call_values(started_at=given, seller_accepted=True, thread_id=42)

    run(raw, insert_call(store), values)
    read = read_call(store, raw)

    assert read["started_at"] == stored.replace(tzinfo=UTC)
    assert read["started_at"].tzinfo is UTC
    assert (read["started_at"].hour, read["started_at"].day) == (stored.hour, stored.day)
    assert read["updated_at"] == values["updated_at"]
    assert read["updated_at"].tzinfo is UTC
    assert read["seller_accepted"] is True
    assert read["thread_id"] == 42
    assert read["topic"] is None
    assert read["question"] is None
    assert read == {**values, "started_at": stored.replace(tzinfo=UTC)}
    assert orm_call(store) == read


def test_values_are_stored_as_sqlalchemy_stores_them(
    store: Store, raw: PoolProxiedConnection
) -> None:
    started = datetime(2026, 6, 10, 12, 30, 0, 500, tzinfo=WARSAW)
    run(raw, insert_call(store), call_values(started_at=started, seller_accepted=True))
    plain = Prepared.compile(
        select(CALLS.c.started_at, CALLS.c.seller_accepted).where(CALLS.c.sid == bindparam("sid")),
        store.engine.dialect,
    )

    # No result processing: what is really in the file (UTC, no offset; booleans as 1/0).
    assert fetch(raw, plain, {"sid": SID}) == [("2026-06-10 10:30:00.000500", 1)]


def test_false_and_none_come_back_as_false_and_none(
    store: Store, raw: PoolProxiedConnection
) -> None:
    values = call_values(from_number=None, to_number=None, order_id=None, seller_id=None)

    run(raw, insert_call(store), values)
    read = read_call(store, raw)

    assert read["seller_accepted"] is False
    assert [key for key, value in read.items() if value is None] == [
        "from_number",
        "to_number",
        "topic",
        "order_id",
        "seller_id",
        "question",
        "dial_status",
        "queue_result",
        "thread_id",
        "outcome",
    ]
    assert orm_call(store) == read


def test_a_row_the_orm_wrote_reads_the_same_through_the_driver(
    store: Store, raw: PoolProxiedConnection
) -> None:
    values = call_values(started_at=datetime(2026, 6, 10, 12, 30, tzinfo=WARSAW), topic="delivery")
    with store.session() as session:
        session.execute(insert(CALLS), values)

    read = read_call(store, raw)

    assert read == orm_call(store)
    assert read["started_at"] == datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
    assert read["started_at"].tzinfo is UTC
    assert read["topic"] == "delivery"


@pytest.mark.parametrize("column", ["started_at", "updated_at"])
def test_a_naive_datetime_is_refused(store: Store, raw: PoolProxiedConnection, column: str) -> None:
    prepared = insert_call(store)
    values = call_values(**{column: datetime(2026, 6, 10, 10, 30)})

    with pytest.raises(ValueError, match="naive"):
        prepared.parameters(values)
    with pytest.raises(ValueError, match="naive"):
        run(raw, prepared, values)
    raw.rollback()
    assert fetch(raw, select_call(store), {"sid": SID}) == []


def test_positional_parameters_follow_the_placeholders(
    store: Store, raw: PoolProxiedConnection
) -> None:
    # Given in an order unlike the table's, and all text, so any mix-up shows in the row.
    # (``seller_accepted`` too: Prepared applies no column defaults, every column is bound.)
    order = ["step", "to_number", "sid", "language", "from_number", "outcome", "updated_at"]
    prepared = Prepared.compile(
        insert(CALLS).values(
            {
                **{name: bindparam(name) for name in order},
                "started_at": bindparam("updated_at"),
                "seller_accepted": bindparam("accepted"),
            }
        ),
        store.engine.dialect,
    )
    values: dict[str, Any] = {name: f"{name}-value" for name in order}
    values["updated_at"] = datetime(2026, 6, 10, 10, 30, tzinfo=WARSAW)
    values["accepted"] = True

    params = prepared.parameters(values)

    assert prepared.positional
    assert isinstance(params, tuple)
    assert prepared.sql.count("?") == len(prepared.names) == len(params)
    assert sorted(prepared.names) == sorted([*order, "updated_at", "accepted"])
    run(raw, prepared, values)
    read = read_call(store, raw, "sid-value")
    for name in order[:-1]:
        assert read[name] == f"{name}-value"
    assert read["updated_at"] == read["started_at"] == datetime(2026, 6, 10, 8, 30, tzinfo=UTC)
    assert read["seller_accepted"] is True


def test_one_name_bound_twice_is_given_twice(store: Store, raw: PoolProxiedConnection) -> None:
    run(raw, insert_call(store), call_values(sid="CA-from", from_number="+481"))
    run(raw, insert_call(store), call_values(sid="CA-to", to_number="+481"))
    run(raw, insert_call(store), call_values(sid="CA-other"))
    prepared = Prepared.compile(
        select(CALLS.c.sid)
        .where(
            or_(CALLS.c.from_number == bindparam("phone"), CALLS.c.to_number == bindparam("phone"))
        )
        .where(CALLS.c.step == bindparam("step"))
        .order_by(CALLS.c.sid),
        store.engine.dialect,
    )

    assert prepared.names == ("phone", "phone", "step")
    assert prepared.parameters({"step": "menu", "phone": "+481"}) == ("+481", "+481", "menu")
    assert fetch(raw, prepared, {"step": "menu", "phone": "+481"}) == [("CA-from",), ("CA-to",)]
    assert fetch(raw, prepared, {"step": "other", "phone": "+481"}) == []


def test_an_update_binds_set_and_where_in_placeholder_order(
    store: Store, raw: PoolProxiedConnection
) -> None:
    run(raw, insert_call(store), call_values())
    run(raw, insert_call(store), call_values(sid="CA-untouched"))
    prepared = Prepared.compile(
        update(CALLS)
        .where(CALLS.c.sid == bindparam("call_sid"))
        .values(
            seller_accepted=bindparam("seller_accepted"),
            step=bindparam("step"),
            updated_at=bindparam("updated_at"),
        ),
        store.engine.dialect,
    )
    later = datetime(2026, 6, 10, 13, 0, tzinfo=WARSAW)

    assert prepared.names[-1] == "call_sid"
    run(
        raw,
        prepared,
        {"call_sid": SID, "step": "dialled", "seller_accepted": True, "updated_at": later},
    )

    read = read_call(store, raw)
    assert (read["step"], read["seller_accepted"], read["updated_at"]) == ("dialled", True, later)
    assert read_call(store, raw, "CA-untouched") == call_values(sid="CA-untouched")


def test_events_round_trip(store: Store, raw: PoolProxiedConnection) -> None:
    columns = ["call_sid", "seq", "at", "step", "input", "decision"]
    write = Prepared.compile(
        insert(EVENTS).values({name: bindparam(name) for name in columns}), store.engine.dialect
    )
    read_columns = [EVENTS.c[name] for name in ["id", *columns]]
    read = Prepared.compile(
        select(*read_columns).where(EVENTS.c.call_sid == bindparam("sid")).order_by(EVENTS.c.id),
        store.engine.dialect,
    )
    at = datetime(2026, 6, 10, 12, 0, tzinfo=WARSAW)
    first = {"call_sid": SID, "seq": 1, "at": at, "step": "menu", "input": "1", "decision": "a"}
    run(raw, write, first)
    run(raw, write, {**first, "seq": 2, "step": "end", "input": None, "decision": "b"})

    rows = [by_name(read_columns, store.engine.dialect, r) for r in fetch(raw, read, {"sid": SID})]

    assert [(r["step"], r["input"], r["decision"]) for r in rows] == [
        ("menu", "1", "a"),
        ("end", None, "b"),
    ]
    assert all(r["at"] == at and r["at"].tzinfo is UTC for r in rows)
    assert rows[0]["id"] < rows[1]["id"]


def test_values_reader_leaves_none_alone_and_converts_the_rest(store: Store) -> None:
    columns = [CALLS.c.started_at, CALLS.c.seller_accepted, CALLS.c.thread_id, CALLS.c.topic]

    def read(row: tuple[Any, ...]) -> dict[str, Any]:
        return by_name(columns, store.engine.dialect, row)

    assert read((None, None, None, None)) == dict.fromkeys(
        ["started_at", "seller_accepted", "thread_id", "topic"]
    )
    assert read(("2026-06-10 10:30:00.000000", 1, 7, "order")) == {
        "started_at": datetime(2026, 6, 10, 10, 30, tzinfo=UTC),
        "seller_accepted": True,
        "thread_id": 7,
        "topic": "order",
    }
    with pytest.raises(ValueError):
        read(("2026-06-10 10:30:00.000000", 1, 7))


def test_named_paramstyle_for_postgresql_without_a_server() -> None:
    dialect = postgresql_dialect()
    prepared = Prepared.compile(
        insert(CALLS).values({c.key: bindparam(c.key) for c in CALL_COLUMNS}), dialect
    )
    values = call_values(
        started_at=datetime(2026, 6, 10, 12, 30, tzinfo=WARSAW), seller_accepted=True
    )

    params = prepared.parameters(values)

    assert not prepared.positional
    assert prepared.names == ()
    assert "?" not in prepared.sql
    assert set(re.findall(r"%\((\w+)\)s", prepared.sql)) == {c.key for c in CALL_COLUMNS}
    assert isinstance(params, dict)
    assert params.keys() == values.keys()
    # The UTC type's own processing still applies: naive UTC for a ``timestamp`` column.
    assert params["started_at"] == datetime(2026, 6, 10, 10, 30)
    assert params["updated_at"] == datetime(2026, 6, 10, 10, 31, 5)
    assert params["seller_accepted"] is True
    assert {k: v for k, v in params.items() if not k.endswith("_at")} == {
        k: v for k, v in values.items() if not k.endswith("_at")
    }


def test_postgresql_select_and_reader() -> None:
    dialect = postgresql_dialect()
    prepared = Prepared.compile(
        select(CALLS.c.sid, CALLS.c.updated_at).where(CALLS.c.sid == bindparam("sid")), dialect
    )
    read = values_reader([CALLS.c.sid, CALLS.c.updated_at], dialect)

    assert re.search(r"WHERE calls\.sid = %\(sid\)s", prepared.sql)
    assert prepared.parameters({"sid": SID}) == {"sid": SID}
    assert read((SID, datetime(2026, 6, 10, 10, 30))) == [
        SID,
        datetime(2026, 6, 10, 10, 30, tzinfo=UTC),
    ]
    with pytest.raises(ValueError, match="naive"):
        Prepared.compile(update(CALLS).values(updated_at=bindparam("at")), dialect).parameters(
            {"at": datetime(2026, 6, 10)}
        )


def test_a_statement_relying_on_a_column_default_is_refused(store: Store) -> None:
    # ``seller_accepted`` has a Python-side default, which only SQLAlchemy's execution applies.
    statement = insert(CALLS).values(sid=bindparam("sid"), step=bindparam("step"))

    with pytest.raises(ValueError, match="seller_accepted"):
        Prepared.compile(statement, store.engine.dialect)


# Orders in which a caller may hand the call's values to ``Prepared.binder``: the table's own,
# reversed, and one the driver's placeholders do not follow at all.
BINDER_ORDERS = {
    "table order": [c.key for c in CALL_COLUMNS],
    "reversed": [c.key for c in reversed(CALL_COLUMNS)],
    "times first": [
        "updated_at",
        "started_at",
        *[c.key for c in CALL_COLUMNS if "_at" not in c.key],
    ],
}


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
@pytest.mark.parametrize("order", list(BINDER_ORDERS.values()), ids=list(BINDER_ORDERS))
@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="plain"),
        pytest.param(
            {"started_at": datetime(2026, 1, 1, 0, 15, tzinfo=WARSAW), "seller_accepted": True},
            id="warsaw time, true",
        ),
        pytest.param({"from_number": None, "thread_id": 7, "question": "żółć?"}, id="none, int"),
    ],
)
def test_binder_binds_values_by_position_as_parameters_binds_them_by_name(
    store: Store, dialect_name: str, order: list[str], overrides: dict[str, Any]
) -> None:
    dialect = store.engine.dialect if dialect_name == "sqlite" else postgresql_dialect()
    prepared = Prepared.compile(
        insert(CALLS).values({c.key: bindparam(c.key) for c in CALL_COLUMNS}), dialect
    )
    values = call_values(**overrides)

    bound = prepared.binder(order)([values[name] for name in order])

    expected = prepared.parameters(values)
    if prepared.positional:
        assert list(bound) == list(expected)
    else:
        assert bound == expected


def test_a_bound_row_is_written_as_the_named_one_is(
    store: Store, raw: PoolProxiedConnection
) -> None:
    prepared = insert_call(store)
    order = BINDER_ORDERS["times first"]
    values = call_values(started_at=datetime(2026, 6, 10, 12, 30, tzinfo=WARSAW), thread_id=3)

    cursor = raw.cursor()
    cursor.execute(prepared.sql, prepared.binder(order)([values[name] for name in order]))
    cursor.close()
    raw.commit()

    assert read_call(store, raw) == {
        **values,
        "started_at": datetime(2026, 6, 10, 10, 30, tzinfo=UTC),
    }
    assert orm_call(store) == read_call(store, raw)


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([c.key for c in CALL_COLUMNS][1:], id="one missing"),
        pytest.param([c.key for c in CALL_COLUMNS] + ["sid"], id="one twice"),
        pytest.param([c.key for c in CALL_COLUMNS] + ["extra"], id="an unknown one"),
    ],
)
def test_binder_refuses_an_order_that_is_not_the_statements_parameters(
    store: Store, order: list[str]
) -> None:
    with pytest.raises(ValueError, match="are not the statement's parameters"):
        insert_call(store).binder(order)


def test_a_positional_binder_refuses_too_few_or_too_many_values(store: Store) -> None:
    order = [c.key for c in CALL_COLUMNS]
    bind = insert_call(store).binder(order)
    values = [call_values()[name] for name in order]

    with pytest.raises(ValueError, match="15 values for 16 parameters"):
        bind(values[:-1])
    with pytest.raises(ValueError, match="17 values for 16 parameters"):
        bind([*values, None])


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param((None, None, None, None), [None, None, None, None], id="all none"),
        pytest.param(
            ("2026-06-10 10:30:00.000000", 1, 7, "order"),
            [datetime(2026, 6, 10, 10, 30, tzinfo=UTC), True, 7, "order"],
            id="typed",
        ),
        pytest.param(
            ("2026-12-31 23:59:59.999999", 0, None, None),
            [datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), False, None, None],
            id="false, year's end",
        ),
    ],
)
def test_values_reader_reads_by_position(
    store: Store, row: tuple[Any, ...], expected: list[Any]
) -> None:
    columns = [CALLS.c.started_at, CALLS.c.seller_accepted, CALLS.c.thread_id, CALLS.c.topic]

    values = values_reader(columns, store.engine.dialect)(row)

    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]  # True, not 1
    if values[0] is not None:
        assert values[0].tzinfo is UTC


def test_values_reader_refuses_a_row_of_another_width(store: Store) -> None:
    read = values_reader([CALLS.c.started_at, CALLS.c.topic], store.engine.dialect)

    with pytest.raises(ValueError, match="a row of 3 values for 2 columns"):
        read(("2026-06-10 10:30:00.000000", "order", None))


@pytest.mark.parametrize(
    ("statement", "order", "values", "expected"),
    [
        pytest.param(select(CALLS.c.step), [], [], [], id="no parameter"),
        pytest.param(
            select(CALLS.c.step).where(CALLS.c.sid == bindparam("sid")),
            ["sid"],
            [SID],
            [SID],
            id="one parameter",
        ),
        pytest.param(
            select(CALLS.c.step).where(
                CALLS.c.sid == bindparam("sid"), CALLS.c.from_number != bindparam("sid")
            ),
            ["sid"],
            [SID],
            [SID, SID],
            id="one parameter, used twice",
        ),
        pytest.param(
            select(CALLS.c.step).where(
                CALLS.c.updated_at == bindparam("at"), CALLS.c.sid == bindparam("sid")
            ),
            ["sid", "at"],
            [SID, datetime(2026, 6, 10, 12, 30, tzinfo=WARSAW)],
            ["2026-06-10 10:30:00.000000", SID],
            id="placeholder order, a time",
        ),
    ],
)
def test_a_positional_binder_gives_a_value_per_placeholder(
    store: Store, statement: Any, order: list[str], values: list[Any], expected: list[Any]
) -> None:
    prepared = Prepared.compile(statement, store.engine.dialect)

    assert list(prepared.binder(order)(values)) == expected
    assert list(prepared.binder(order)(values)) == list(
        prepared.parameters(dict(zip(order, values, strict=True)))
    )
