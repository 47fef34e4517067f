"""Read one Parquet table into a pandas DataFrame, with specific error messages.

The memory the table takes is estimated from the file's metadata before anything is read (a
small Parquet file can expand enormously, like a zip bomb); nested and raw-bytes columns and
duplicated names are refused with their own message instead of being mangled by pandas.
"""

from __future__ import annotations

import io

import pandas as pd

from ..errors import DataError
from .limits import MAX_TEXT_VALUE, check_budget, one_line, safe_name


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


def parquet_schema(data: bytes, name: str):
    """The checked pyarrow schema of a Parquet file, without reading its data."""
    _meta, schema = _parquet_meta(data, name)
    check_parquet_schema(schema, name)
    return schema
