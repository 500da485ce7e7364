"""SQLAlchemy statements compiled once, then run straight on the DBAPI connection.

Every webhook runs the same three or four statements. Through a SQLAlchemy ``Connection`` each
costs several times what the database itself spends (checking the compiled cache, building the
execution context, events, result metadata); ``make bench`` measured the webhook's write at
five times the same SQL on the driver. So the webhooks' statements are written as SQLAlchemy
Core (the tables stay the one definition of the schema), compiled for the engine's dialect once,
and executed on the driver's cursor, with the column types' own bind and result processing
(the UTC datetimes, SQLite's booleans) applied by hand. What SQLAlchemy would add around an
error (statement logging, invalidating a dropped connection) does not happen here: the view
logs the error, and the pool's pre-ping replaces a dead PostgreSQL connection at checkout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class Prepared:
    """One statement as the driver takes it: SQL text and how to turn values into parameters."""

    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order a positional style needs them
    positional: bool
    processors: Mapping[str, Processor]
    bind_names: frozenset[str]  # every parameter, whatever the style

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> Prepared:
        """Compile ``statement`` for ``dialect``; its parameters must be named ``bindparam``s."""
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a DML or SELECT statement
        implicit = [name for name, bind in compiled.binds.items() if not bind.required]
        if implicit:  # e.g. a column default SQLAlchemy would fill in: nothing here would
            raise ValueError(f"statement has parameters with values of their own: {implicit}")
        processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        names = tuple(compiled.positiontup or ()) if compiled.positional else ()
        return cls(
            compiled.string, names, compiled.positional, processors, frozenset(compiled.binds)
        )

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """``values`` (by parameter name) bound as the driver expects them."""
        process = self.processors
        if self.positional:
            return tuple(
                process[name](values[name]) if name in process else values[name]
                for name in self.names
            )
        return {
            name: process[name](value) if name in process else value
            for name, value in values.items()
        }

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> None:
        """Run the statement on a DBAPI ``cursor``."""
        cursor.execute(self.sql, self.parameters(values))

    def binder(self, order: Sequence[str]) -> Callable[[Sequence[Any]], Any]:
        """A function binding values given by position in ``order`` (every parameter's name,
        in any order) as ``parameters`` binds them by name, without a mapping built per call."""
        if len(set(order)) != len(order) or set(order) != self.bind_names:
            expected = sorted(self.bind_names)
            raise ValueError(f"{order} are not the statement's parameters {expected}")
        process = self.processors
        if not self.positional:
            named = tuple((name, process.get(name)) for name in order)

            def bind_named(values: Sequence[Any]) -> dict[str, Any]:
                return {
                    name: value if convert is None else convert(value)
                    for (name, convert), value in zip(named, values, strict=True)
                }

            return bind_named
        # The driver's order, picked from ``order`` in one C call; then the few typed values.
        at = [order.index(name) for name in self.names]

        def pick_each(values: Sequence[Any]) -> list[Any]:
            return [values[i] for i in at]

        # itemgetter of one index gives the value itself (not a tuple), and of none is no getter
        pick: Callable[[Sequence[Any]], Sequence[Any]] = (
            itemgetter(*at) if len(at) > 1 else pick_each
        )
        converts = tuple((i, process[name]) for i, name in enumerate(self.names) if name in process)
        width = len(order)

        def bind_positional(values: Sequence[Any]) -> list[Any]:
            if len(values) != width:
                raise ValueError(f"{len(values)} values for {width} parameters")
            bound = list(pick(values))
            for i, convert in converts:
                bound[i] = convert(bound[i])
            return bound

        return bind_positional


def values_reader(
    columns: Sequence[Column[Any]], dialect: Dialect
) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning a driver's row of ``columns`` into Python values, in the same order
    (the column types' result processing, on the typed columns only; None stays None)."""
    converts = []
    for i, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            converts.append((i, process))
    width = len(columns)

    def read(row: Sequence[Any]) -> list[Any]:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for {width} columns")
        values = list(row)
        for i, process in converts:
            value = values[i]
            if value is not None:
                values[i] = process(value)
        return values

    return read
