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
        return cls(compiled.string, names, compiled.positional, processors)

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

    def bound(self, values: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL and its parameters, ready for ``cursor.execute`` (to run later)."""
        return self.sql, self.parameters(values)


def row_reader(
    columns: Sequence[Column[Any]], dialect: Dialect
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function turning a driver's row of ``columns`` into Python values by column name."""
    readers = [
        (column.key, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for column in columns
    ]

    def read(row: Sequence[Any]) -> dict[str, Any]:
        return {
            key: value if process is None or value is None else process(value)
            for (key, process), value in zip(readers, row, strict=True)
        }

    return read
