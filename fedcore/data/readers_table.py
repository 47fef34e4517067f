"""Read one CSV or Parquet table into a pandas DataFrame, with specific error messages.

Decisions
---------
* Text encoding: UTF-8 (with or without BOM) first; UTF-16 when the file starts with a
  UTF-16 BOM (Excel "Unicode text"); anything else that is not valid UTF-8 is decoded as
  Latin-1 and a note says so (Latin-1 maps every byte, so values like "Zürich" from old
  Windows exports survive). Files containing NUL bytes are rejected as binary.
* Delimiter: detected from the header line among ``,`` ``;`` tab and ``|`` (the one that
  splits the header into the most fields). If none splits it, the file is rejected: a
  table with a single column cannot hold both a client and a label column.
* Decimal commas (``1,5``) are accepted in semicolon-, tab- or pipe-separated files when
  they outnumber decimal points (European spreadsheet exports); a note says so.
* Missing cells: empty, pandas' usual markers (``NA``, ``N/A``, ``NaN``, ``null``...) and
  ``?`` (the UCI repository's marker).
* Header: required. A header whose every field is a number means the file has none.
  Duplicated column names are rejected (pandas would silently rename them ``a.1``).
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from ..errors import DataError
from .source import human_size, one_line

DELIMITERS = (",", ";", "\t", "|")
#: Largest uncompressed size of a Parquet upload's row groups (as for ZIP archives).
MAX_PARQUET_EXPANDED = 500 * 2**20
#: Cells read as missing besides pandas' defaults (empty, NA, N/A, NaN, null, None, ...):
#: "?" is how the UCI repository marks missing values.
MISSING_MARKERS = ["?"]
_DECIMAL_COMMA = re.compile(r"(?<![\d,.])-?\d+,\d+(?![\d,.])")
_DECIMAL_POINT = re.compile(r"(?<![\d,.])-?\d+\.\d+(?![\d,.])")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes -> text following the module's encoding rules; returns (text, notes)."""
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["file is UTF-16 encoded"]
        except UnicodeDecodeError as exc:
            raise DataError(f"file '{name}' starts like UTF-16 text but cannot be decoded "
                            f"(byte {exc.start}); save it as UTF-8 CSV") from None
    if b"\x00" in data[:65536]:
        raise DataError(f"file '{name}' looks binary (it contains NUL bytes), not a text "
                        "table; upload a CSV, Parquet, ZIP, NPZ or LEAF JSON file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        notes.append(f"file '{name}' is not valid UTF-8 (first bad byte at offset "
                     f"{exc.start}); it was read as Latin-1")
    return text, notes


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_header(text: str, name: str) -> tuple[list[str], str]:
    """Return (column names, delimiter) of a CSV text, validating the header line."""
    if not text.strip():
        raise DataError(f"file '{name}' is empty")
    first = next((line for line in text.splitlines() if line.strip()), "")
    best: tuple[list[str], str] | None = None
    for delim in DELIMITERS:
        fields = next(csv.reader([first], delimiter=delim))
        if best is None or len(fields) > len(best[0]):
            best = (fields, delim)
    fields, delim = best
    if len(fields) < 2:
        raise DataError(f"file '{name}': only one column found (header '{first[:60]}'); "
                        "use commas, semicolons, tabs or pipes between columns")
    names = [f.strip() for f in fields]
    if all(n and _is_number(n) for n in names):
        preview = ", ".join(names[:4])
        raise DataError(f"file '{name}' has no header row: the first row is all numbers "
                        f"({preview}, ...); add a first row with column names")
    seen: dict[str, int] = {}
    for i, col in enumerate(names):
        if col and col in seen:
            raise DataError(f"file '{name}': duplicated column name '{col}' (columns "
                            f"{seen[col] + 1} and {i + 1}); column names must be unique")
        seen[col] = i
    return names, delim


def read_csv_bytes(data: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse a CSV/TSV file; returns (frame, notes). Every failure is a DataError."""
    text, notes = decode_text(data, name)
    names, delim = parse_header(text, name)
    if delim != ",":
        notes.append(f"file '{name}' is {_DELIMITER_NAMES[delim]}-separated")
    decimal = "."
    if delim in (";", "\t", "|"):
        sample = text[:200_000]
        if len(_DECIMAL_COMMA.findall(sample)) > len(_DECIMAL_POINT.findall(sample)):
            decimal = ","
            notes.append(f"file '{name}' uses decimal commas (1,5 = 1.5)")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delim, decimal=decimal,
                            na_values=MISSING_MARKERS, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise DataError(f"file '{name}' is not a well-formed table: {one_line(exc)}") from None
    except (ValueError, csv.Error) as exc:
        raise DataError(f"file '{name}' cannot be read as CSV: {one_line(exc)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"file '{name}' has a header but no data rows")
    return frame, notes


def read_parquet_bytes(data: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse a Parquet file with pyarrow; returns (frame, notes).

    The declared uncompressed size of all row groups is checked first (a small Parquet file
    can expand enormously, like a zip bomb).
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        # encoded size, or 8 bytes per cell (what pandas will hold), whichever is larger
        expanded = max(sum(meta.row_group(i).total_byte_size
                           for i in range(meta.num_row_groups)),
                       8 * meta.num_rows * meta.num_columns)
    except Exception as exc:  # pyarrow raises several unrelated types on corrupt input
        raise DataError(f"file '{name}' is not a readable Parquet file: "
                        f"{type(exc).__name__}: {one_line(exc, 200)}") from None
    if expanded > MAX_PARQUET_EXPANDED:
        raise DataError(f"Parquet file '{name}' would expand to about {human_size(expanded)} in "
                        f"memory (limit {human_size(MAX_PARQUET_EXPANDED)}); upload a "
                        "smaller table")
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types on corrupt input
        raise DataError(f"file '{name}' is not a readable Parquet file: "
                        f"{type(exc).__name__}: {one_line(exc, 200)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise DataError(f"file '{name}': duplicated column name '{dup[0]}'; "
                        "column names must be unique")
    if len(frame) == 0:
        raise DataError(f"file '{name}' has columns but no data rows")
    return frame, []


def table_columns(data: bytes, name: str, kind: str) -> list[str]:
    """Column names of a CSV or Parquet file without reading all of it."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return [str(n) for n in pq.read_schema(io.BytesIO(data)).names]
        except Exception as exc:
            raise DataError(f"file '{name}' is not a readable Parquet file: "
                            f"{type(exc).__name__}") from None
    text, _ = decode_text(data, name)
    return parse_header(text, name)[0]
