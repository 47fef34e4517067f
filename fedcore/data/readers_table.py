"""Read one CSV or Parquet table into a pandas DataFrame, with specific error messages.

Decisions
---------
* Text encoding: UTF-16 when the file starts with a UTF-16 BOM (Excel "Unicode text") or
  has NUL bytes at every other position (UTF-16 without a BOM); else UTF-8 (with or without
  BOM); anything else that is not valid UTF-8 is decoded as Latin-1 and a note says so
  (Latin-1 maps every byte, so values like "Zürich" from old Windows exports survive). Other
  files containing a NUL byte anywhere are rejected as binary, naming its offset and line.
* Rows with more fields than the header are refused naming the first one (pandas would
  silently move the first field into the index and shift every column).
* ``text_columns`` (the client column) are read as text exactly as written.
* Delimiter: detected from the header line among ``,`` ``;`` tab and ``|`` (the one that
  splits the header into the most fields). If none splits it, the file is rejected: a
  table with a single column cannot hold both a client and a label column.
* Decimal commas (``1,5``) are accepted in semicolon-, tab- or pipe-separated files when
  they outnumber decimal points (European spreadsheet exports); a note says so.
* Missing cells: empty, pandas' usual markers (``NA``, ``N/A``, ``NaN``, ``null``...) and
  ``?`` (the UCI repository's marker).
* Header: required, any length; a quoted name may contain a line break. A header whose
  every field is a number means the file has none.
  Duplicated column names are rejected (pandas would silently rename them ``a.1``).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import warnings

import pandas as pd

from ..errors import DataError
from .limits import (
    CSV_BYTES_PER_CELL,
    MAX_TEXT_VALUE,
    check_budget,
    one_line,
    safe_name,
)

DELIMITERS = (",", ";", "\t", "|")
#: Cells read as missing besides pandas' defaults (empty, NA, N/A, NaN, null, None, ...):
#: "?" is how the UCI repository marks missing values.
MISSING_MARKERS = ["?"]
_DECIMAL_COMMA = re.compile(r"(?<![\d,.])-?\d+,\d+(?![\d,.])")
_DECIMAL_POINT = re.compile(r"(?<![\d,.])-?\d+\.\d+(?![\d,.])")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# A header or a cell may be as long as the file (a 128x128 pixel table has a ~150,000
# character header); the csv module's default limit of 131,072 characters is not ours.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when NUL bytes sit at every other position (text that
    is mostly ASCII, saved as UTF-16 without a byte-order mark), else None."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes -> text following the module's encoding rules; returns (text, notes)."""
    notes: list[str] = []
    encoding = ("utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff"))
                else _utf16_without_bom(data))
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"file '{name}' looks like UTF-16 text but cannot be decoded "
                            f"(byte {exc.start}); save it as UTF-8 CSV") from None
        if "\x00" in text:
            raise DataError(f"file '{name}' looks binary (it contains NUL characters), not a "
                            "text table")
        bom = "" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else " without a BOM"
        return text, [f"file '{name}' is UTF-16 encoded{bom}"]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(f"file '{name}' looks binary (a NUL byte at offset {nul:,}, line "
                        f"{line:,}), not a text table; upload a CSV, Parquet, ZIP, NPZ or "
                        "LEAF JSON file")
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


def _first_record(text: str, delim: str) -> list[str]:
    """First non-blank record (a quoted field may span lines)."""
    for record in csv.reader(io.StringIO(text), delimiter=delim):
        if any(f.strip() for f in record):
            return record
    return []


def parse_header(text: str, name: str) -> tuple[list[str], str]:
    """Return (column names, delimiter) of a CSV text, validating the header line."""
    if not text.strip():
        raise DataError(f"file '{name}' is empty")
    best: tuple[list[str], str] | None = None
    for delim in DELIMITERS:
        try:
            fields = _first_record(text, delim)
        except csv.Error:
            continue
        if best is None or len(fields) > len(best[0]):
            best = (fields, delim)
    if best is None:
        raise DataError(f"file '{name}': the header row cannot be read as CSV")
    fields, delim = best
    if len(fields) < 2:
        first = next((line for line in text.splitlines() if line.strip()), "")
        raise DataError(f"file '{name}': only one column found (header "
                        f"'{safe_name(first, 60)}'); use commas, semicolons, tabs or pipes "
                        "between columns")
    names = [f.strip() for f in fields]
    if all(n and _is_number(n) for n in names):
        preview = ", ".join(names[:4])
        raise DataError(f"file '{name}' has no header row: the first row is all numbers "
                        f"({safe_name(preview, 60)}, ...); add a first row with column names")
    seen: dict[str, int] = {}
    for i, col in enumerate(names):
        if col and col in seen:
            raise DataError(f"file '{name}': duplicated column name '{safe_name(col)}' "
                            f"(columns {seen[col] + 1} and {i + 1}); column names must be "
                            "unique")
        seen[col] = i
    return names, delim


def estimate_csv_memory(data: bytes) -> int:
    """Upper estimate of the peak bytes parsing ``data`` as a CSV takes (no decoding).

    Cells are counted as delimiters + line breaks, with the delimiter that is most frequent
    in the first line (UTF-16 text holds the same single-byte delimiters).
    """
    first = data[:data.find(b"\n")] if b"\n" in data[:2**20] else data[:2**20]
    delim = max((d.encode() for d in DELIMITERS), key=first.count)
    cells = data.count(delim) + data.count(b"\n") + 1
    return 3 * len(data) + CSV_BYTES_PER_CELL * cells


def _first_long_row(text: str, delim: str, n_columns: int) -> tuple[int, int, int] | None:
    """(data row, line, fields) of the first row with more fields than the header."""
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    row = -1
    for record in reader:
        if not any(f.strip() for f in record):
            continue
        row += 1
        if row and len(record) > n_columns:
            return row, reader.line_num, len(record)
    return None


def _too_many_fields(text: str, delim: str, names: list[str], name: str) -> DataError | None:
    found = _first_long_row(text, delim, len(names))
    if found is None:
        return None
    row, line, n = found
    return DataError(f"file '{name}': data row {row:,} (line {line:,}) has {n} fields but "
                     f"the header has {len(names)}; check the delimiters and quotes of that "
                     "row")


def read_csv_bytes(data: bytes, name: str,
                   text_columns: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Parse a CSV/TSV file; returns (frame, notes). Every failure is a DataError.

    ``text_columns`` (e.g. the client column) are read as text exactly as written: ``1``,
    ``01`` and ``1.0`` stay three different values.
    """
    check_budget(name, estimate_csv_memory(data), "parsing the table")
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
    raw_names = _first_record(text, delim)
    dtype = {raw: str for raw in raw_names if raw.strip() in text_columns}
    try:
        with warnings.catch_warnings():
            # index_col=False: a row with an extra field must not become the index
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=delim, decimal=decimal,
                                na_values=MISSING_MARKERS, skip_blank_lines=True,
                                index_col=False, dtype=dtype or None)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise (_too_many_fields(text, delim, names, name)
               or DataError(f"file '{name}' is not a well-formed table: "
                            f"{one_line(exc)}")) from None
    except (ValueError, csv.Error) as exc:
        raise DataError(f"file '{name}' cannot be read as CSV: {one_line(exc)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"file '{name}' has a header but no data rows")
    return frame, notes


def _parquet_meta(data: bytes, name: str):
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(io.BytesIO(data))
        return pfile.metadata, pfile.schema_arrow
    except Exception as exc:  # pyarrow raises several unrelated types on corrupt input
        raise DataError(f"file '{name}' is not a readable Parquet file "
                        f"({one_line(exc, 200)})") from None


def estimate_parquet_memory(meta) -> int:
    """Peak bytes of a Parquet file once in pandas, from its metadata: every leaf value
    (each element of a list column counts) as 8 bytes plus, for text/bytes columns, their
    uncompressed size and a Python object per value."""
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            col = group.column(c)
            total += 8 * col.num_values
            if col.physical_type in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
                total += 2 * col.total_uncompressed_size + 56 * col.num_values
    return 2 * total


def check_parquet_schema(schema, name: str) -> None:
    """Own messages for what pandas would mangle: duplicated names, nested and bytes columns."""
    import pyarrow as pa

    seen: dict[str, int] = {}
    for i, fld in enumerate(schema):
        col = str(fld.name).strip()
        if col in seen:
            raise DataError(f"file '{name}': duplicated column name '{safe_name(col)}' "
                            f"(columns {seen[col] + 1} and {i + 1}); column names must be "
                            "unique")
        seen[col] = i
        if pa.types.is_nested(fld.type):
            raise DataError(f"file '{name}': column '{safe_name(col)}' holds nested values "
                            f"({fld.type}); FedLens needs one number or text per cell")
        if pa.types.is_binary(fld.type) or pa.types.is_large_binary(fld.type) \
                or pa.types.is_fixed_size_binary(fld.type):
            raise DataError(f"file '{name}': column '{safe_name(col)}' holds raw bytes, not "
                            "numbers or text; store it as a string or numeric column")


def read_parquet_bytes(data: bytes, name: str,
                       text_columns: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Parse a Parquet file with pyarrow; returns (frame, notes).

    The memory the table takes is estimated from the metadata first (a small Parquet file
    can expand enormously, like a zip bomb); text columns are read dictionary-encoded so a
    long value repeated in every row is held once.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta, schema = _parquet_meta(data, name)
    check_budget(name, estimate_parquet_memory(meta), "the Parquet table in memory")
    check_parquet_schema(schema, name)
    strings = [f.name for f in schema if pa.types.is_string(f.type)
               or pa.types.is_large_string(f.type)]
    try:
        table = pq.read_table(io.BytesIO(data), read_dictionary=strings or None)
        frame = table.to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types on corrupt input
        raise DataError(f"file '{name}' is not a readable Parquet file "
                        f"({one_line(exc, 200)})") from None
    for col in frame.columns:  # small categories -> plain text, as from a CSV
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            cats = frame[col].cat.categories
            if len(cats) and cats.map(len).max() <= MAX_TEXT_VALUE:
                frame[col] = frame[col].astype(object)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"file '{name}' has columns but no data rows")
    return frame, []


def table_columns(data: bytes, name: str, kind: str) -> list[str]:
    """Column names of a CSV or Parquet file without reading all of it."""
    if kind == "parquet":
        _meta, schema = _parquet_meta(data, name)
        check_parquet_schema(schema, name)
        return [str(n).strip() for n in schema.names]
    text, _ = decode_text(data, name)
    return parse_header(text, name)[0]

