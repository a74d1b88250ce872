"""Bulk insert of NumPy columns: PostgreSQL binary `COPY`, SQLite `executemany`.

For building large books fast (benchmarks, migrations of a loan book), not for services. A
column is given as one of:

- a NumPy array (int64 / int32 / bool / datetime64[D]), one value per row;
- `Text(codes, words)`: small-vocabulary text, `words[codes[i]]` for row i;
- a scalar (int, bool, str, date, datetime): the same value in every row;
- None: NULL in every row.

Columns left out get their scalar client default (SQLAlchemy `default=`), else NULL.

The binary COPY rows are assembled with NumPy (fixed-width runs of columns as structured
arrays, text scattered by byte offsets) in chunks, so that a few million rows take seconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import BigInteger, Boolean, Connection, Date, DateTime, FromClause, Integer, Table

CHUNK_ROWS = 100_000
_PG_EPOCH = np.datetime64("2000-01-01", "D")
_PG_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


@dataclass(frozen=True, slots=True)
class Text:
    """Text from a small vocabulary: row i holds `words[codes[i]]`."""

    codes: npt.NDArray[np.integer[Any]]
    words: Sequence[str]


Column = npt.NDArray[Any] | Text | int | bool | str | date | datetime | None


def insert_columns(connection: Connection, table: FromClause, columns: Mapping[str, Column]) -> int:
    """Insert the rows given by `columns` into `table` (a `Table`, e.g. `Model.__table__`);
    returns the number of rows. Runs in the caller's transaction."""
    if not isinstance(table, Table):
        raise TypeError(f"{table!r} is not a table")
    rows = _row_count(columns)
    if rows == 0:
        return 0
    columns = {**_defaults(table, columns), **columns}
    if connection.dialect.name == "postgresql":
        _copy_binary(connection, table, columns, rows)
    else:
        _executemany(connection, table, columns, rows)
    return rows


def _defaults(table: Table, given: Mapping[str, Column]) -> dict[str, Column]:
    """Values of the columns not given: their scalar client default, or NULL."""
    values: dict[str, Column] = {}
    for column in table.columns:
        if column.name in given or column.server_default is not None:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            values[column.name] = getattr(default, "arg", None)
        elif column.nullable:
            values[column.name] = None
        else:
            raise ValueError(f"{table.name}.{column.name} needs a value")
    return values


def _row_count(columns: Mapping[str, Column]) -> int:
    sizes = {
        len(value.codes) if isinstance(value, Text) else len(value)
        for value in columns.values()
        if isinstance(value, Text | np.ndarray)
    }
    if len(sizes) != 1:
        raise ValueError(f"columns must have one length, got {sorted(sizes)}")
    return sizes.pop()


def _chunks(rows: int) -> Iterator[slice]:
    for start in range(0, rows, CHUNK_ROWS):
        yield slice(start, min(rows, start + CHUNK_ROWS))


# ---------------------------------------------------------------- SQLite


def _python_values(value: Column, part: slice, size: int) -> Sequence[Any]:
    if isinstance(value, Text):
        return np.asarray(value.words, dtype=object)[value.codes[part]].tolist()  # type: ignore[no-any-return]
    if isinstance(value, np.ndarray):
        chunk = value[part]
        if chunk.dtype.kind == "M":
            return np.datetime_as_string(chunk.astype("datetime64[D]")).tolist()  # type: ignore[no-any-return]
        if chunk.dtype == np.bool_:
            return chunk.astype(np.int64).tolist()  # type: ignore[no-any-return]
        return chunk.tolist()  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, bool):
        value = int(value)
    return [value] * size


def _executemany(
    connection: Connection, table: Table, columns: Mapping[str, Column], rows: int
) -> None:
    names = list(columns)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    cursor = connection.connection.cursor()
    try:
        for part in _chunks(rows):
            size = part.stop - part.start
            values = [_python_values(columns[name], part, size) for name in names]
            cursor.executemany(sql, list(zip(*values, strict=True)))
    finally:
        cursor.close()


# ---------------------------------------------------------------- PostgreSQL


def _binary_dtype(table: Table, name: str) -> str:
    """The big-endian NumPy dtype of a column's PostgreSQL binary representation."""
    column_type = table.c[name].type
    if isinstance(column_type, Boolean):
        return "u1"
    if isinstance(column_type, BigInteger):
        return ">i8"
    if isinstance(column_type, Integer | Date):
        return ">i4"
    if isinstance(column_type, DateTime):
        return ">i8"
    raise TypeError(f"{table.name}.{name}: no binary form for {column_type!r}")


def _binary_values(value: Any, dtype: str, size: int) -> npt.NDArray[Any]:
    """Values as PostgreSQL stores them: days / microseconds since 2000-01-01."""
    array = np.asarray(value)
    if array.dtype.kind == "M" or isinstance(value, date):
        unit = "us" if dtype == ">i8" else "D"
        epoch = _PG_EPOCH_US if unit == "us" else _PG_EPOCH
        array = (array.astype(f"datetime64[{unit}]") - epoch).astype(np.int64)
    return np.broadcast_to(array.astype(dtype), (size,))


def _copy_binary(
    connection: Connection, table: Table, columns: Mapping[str, Column], rows: int
) -> None:
    names = list(columns)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(
            f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(_COPY_HEADER)
            for part in _chunks(rows):
                copy.write(_binary_chunk(table, columns, part))
            copy.write(_COPY_TRAILER)
    finally:
        cursor.close()


def _binary_chunk(table: Table, columns: Mapping[str, Column], part: slice) -> bytes:
    size = part.stop - part.start
    # runs of fixed-width fields become one structured array each; text and NULL stand alone
    pieces: list[tuple[str, Any]] = [("fixed", [("count", ">i2", len(columns))])]
    for name, value in columns.items():
        if value is None:
            field: tuple[str, str, Any] = (f"{name}_len", ">i4", -1)
            if pieces[-1][0] == "fixed":
                pieces[-1][1].append(field)
            else:
                pieces.append(("fixed", [field]))
            continue
        if isinstance(value, Text | str):
            text = value if isinstance(value, Text) else Text(np.zeros(1, np.int8), [value])
            codes = text.codes[part] if isinstance(value, Text) else np.zeros(size, np.int8)
            pieces.append(("text", (codes, [w.encode() for w in text.words])))
            continue
        dtype = _binary_dtype(table, name)
        data = value[part] if isinstance(value, np.ndarray) else value
        fields = [
            (f"{name}_len", ">i4", np.dtype(dtype).itemsize),
            (name, dtype, _binary_values(data, dtype, size)),
        ]
        if pieces[-1][0] == "fixed":
            pieces[-1][1].extend(fields)
        else:
            pieces.append(("fixed", fields))
    blocks: list[npt.NDArray[np.uint8]] = []
    widths: list[npt.NDArray[np.int64]] = []
    for kind, spec in pieces:
        if kind == "fixed":
            record = np.zeros(size, dtype=[(n, t) for n, t, _ in spec])
            for n, _, v in spec:
                record[n] = v
            blocks.append(record.view(np.uint8).reshape(size, -1))
            widths.append(np.full(size, record.dtype.itemsize, dtype=np.int64))
        else:
            codes, words = spec
            lengths = np.array([4 + len(w) for w in words], dtype=np.int64)
            blocks.append(np.empty((0, 0), np.uint8))  # an empty block, filled below
            widths.append(lengths[codes])
    row_width = np.sum(widths, axis=0)
    starts = np.zeros(size, dtype=np.int64)
    np.cumsum(row_width[:-1], out=starts[1:])
    out = np.empty(int(row_width.sum()), dtype=np.uint8)
    position = starts.copy()
    for (kind, spec), block, width in zip(pieces, blocks, widths, strict=True):
        if kind == "fixed":
            out[position[:, None] + np.arange(block.shape[1])] = block
        else:
            row_codes, encoded_words = spec
            for code, word in enumerate(encoded_words):
                rows = np.flatnonzero(row_codes == code)
                if len(rows):
                    value_bytes = np.frombuffer(struct.pack(">i", len(word)) + word, np.uint8)
                    out[position[rows, None] + np.arange(len(value_bytes))] = value_bytes
        position += width
    return out.tobytes()
