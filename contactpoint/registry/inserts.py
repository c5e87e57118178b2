"""Insert many rows of one model as plain tuples, for the bulk paths.

Django's `bulk_create` builds a model instance per row and prepares every value through its
field, which costs more than the database's own work when millions of fact rows are
written (docs/benchmarks.md). `Inserter` prepares each column with one function chosen
once per field and sends the rows: on PostgreSQL with one binary `COPY` a flush, elsewhere
with `executemany` (ADR 0004). Columns the caller leaves out get what Django would give
them: `auto_now` fields the time of the insert, other fields their default.
`tests/unit/registry/test_inserts.py` proves that a row written either way reads back
exactly as `bulk_create` writes it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

BATCH = 5000  # rows per executemany
Convert = Callable[[Any], Any]
Method = Literal["copy", "executemany"]
# False: executemany on PostgreSQL too, unless asked for COPY (benchmarks/executemany.py).
COPY_ON_POSTGRESQL = True
# The type of each column a COPY writes, by database alias, table and columns: read once.
_COPY_TYPES: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
_AS_IS = frozenset(
    {
        "BinaryField",
        "BooleanField",
        "CharField",
        "FloatField",
        "IntegerField",
        "BigIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


class Inserter:
    """Collects rows of one model, each a tuple in the order of `columns`, and inserts them.

    Args:
        model: the model whose table the rows go to.
        columns: attribute names (`child_id`, not `child`) the rows give, in order.
        using: the database alias.
        method: how `flush` sends the rows: `copy` (PostgreSQL only) or `executemany`;
            by default `copy` on PostgreSQL, where it is several times faster.

    Raises:
        ValueError: a column is not a concrete field of the model, or a field left out
            has no default, is not null and is not an auto field.
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        using: str = "default",
        method: Method | None = None,
    ):
        self.model = model
        self.columns = tuple(columns)
        self.using = using
        connection = connections[using]
        postgres = connection.vendor == "postgresql"
        if method == "copy" and not postgres:
            raise ValueError("COPY needs PostgreSQL")
        copy = postgres and COPY_ON_POSTGRESQL
        self.method: Method = method or ("copy" if copy else "executemany")
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no column {', '.join(unknown)}")
        given = [_converter(fields[c], connection) for c in columns]
        # Only the columns whose values need preparing are touched, row by row.
        self._prepare = tuple((i, c) for i, c in enumerate(given) if c is not _same)
        now = timezone.now()
        constant: list[tuple[str, Any]] = []
        per_row: list[tuple[str, Callable[[], Any]]] = []  # a callable default, such as uuid4
        for name, field in fields.items():
            if name in columns or isinstance(field, AutoFieldMixin):
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                constant.append((name, field.get_db_prep_save(now, connection)))
            elif field.has_default() and callable(field.default):
                per_row.append((name, _fresh(field, connection)))
            elif field.has_default() or field.null:
                constant.append((name, field.get_db_prep_save(field.get_default(), connection)))
            else:
                raise ValueError(f"{model.__name__}.{name} needs a value")
        names = [*columns, *(n for n, _ in per_row), *(n for n, _ in constant)]
        quote = connection.ops.quote_name
        self._table = quote(model._meta.db_table)
        self._names = tuple(quote(fields[n].column) for n in names)
        # Names come from the model, quoted; values only ever go in as parameters or COPY data.
        self.sql = (
            f"INSERT INTO {self._table} ({', '.join(self._names)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )
        self._per_row = [make for _, make in per_row]
        self._constants = tuple(value for _, value in constant)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        """Queue one row: a value for each of `columns`, as the model's attributes hold it."""
        if len(values) != len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        if self._prepare:
            prepared = list(values)
            for i, convert in self._prepare:
                prepared[i] = convert(prepared[i])
            values = tuple(prepared)
        if self._per_row:
            values += tuple(make() for make in self._per_row)
        self.rows.append(values + self._constants)

    def add_instance(self, obj: models.Model) -> None:
        """Queue one model instance (not saved, and never saved by this)."""
        self.add(*(getattr(obj, c) for c in self.columns))

    def add_many(self, rows: Iterable[Sequence[Any]]) -> None:
        if self._per_row or self._prepare:
            for row in rows:
                self.add(*row)
            return
        # Every value goes as it is (a blind index entry on PostgreSQL): no conversion a value.
        width, constants, append = len(self.columns), self._constants, self.rows.append
        for row in rows:
            if len(row) != width:
                raise ValueError(f"a row of {len(row)} values for {width} columns")
            append(row if not constants and type(row) is tuple else (*row, *constants))

    def flush(self) -> int:
        """Insert the queued rows (inside the caller's transaction); return how many.

        Raises:
            django.db.IntegrityError: a row breaks a constraint (a unique key, say), by
                either method; the caller's transaction must then roll back.
        """
        count = len(self.rows)
        if count and self.method == "copy":
            self._copy()
        elif count:
            with connections[self.using].cursor() as cursor:
                for start in range(0, count, BATCH):
                    cursor.executemany(self.sql, self.rows[start : start + BATCH])
        self.rows.clear()
        return count

    def _copy(self) -> None:
        """Send the queued rows with one binary COPY, each value dumped as its column's type
        (read from the table once), which the conversions chosen per field give."""
        connection = connections[self.using]
        columns = ", ".join(self._names)
        with connection.cursor() as wrapper, connection.wrap_database_errors:
            cursor = wrapper.cursor  # psycopg's own: Django's wrapper has no copy()
            key = (self.using, self._table, self._names)
            if key not in _COPY_TYPES:
                cursor.execute(f"SELECT {columns} FROM {self._table} WHERE false")  # noqa: S608
                _COPY_TYPES[key] = [column.type_code for column in cursor.description]
            sql = f"COPY {self._table} ({columns}) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(sql) as copy:
                copy.set_types(_COPY_TYPES[key])
                for row in self.rows:
                    copy.write_row(row)


def _converter(field: models.Field[Any, Any], connection: Any) -> Convert:
    """The function that prepares one column's value, chosen once per field."""
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    internal = target.get_internal_type()
    if internal in _AS_IS:
        return _same
    if internal == "UUIDField" and connection.features.has_native_uuid_field:
        return _same
    if internal == "UUIDField":
        return _hex
    prepare: Convert = lambda value: target.get_db_prep_save(value, connection)  # noqa: E731
    if internal == "DateField":
        # What get_db_prep_save does with a date, without the steps that get it there.
        adapt = connection.ops.adapt_datefield_value
        return lambda value: adapt(value) if type(value) is dt.date else prepare(value)
    return prepare


def _fresh(field: models.Field[Any, Any], connection: Any) -> Callable[[], Any]:
    return lambda: field.get_db_prep_save(field.get_default(), connection)


def _same(value: Any) -> Any:
    return value


def _hex(value: Any) -> Any:
    return None if value is None else value.hex
