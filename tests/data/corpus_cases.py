"""Cases added for the hostile-corpus issue: refused files, odd-but-valid files, bombs.

Imported by ``make_bad_corpus.py`` (which writes the folders); each case is a few lines of
bytes so the corpus is reproducible from this file alone.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import numpy as np

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _csv(rows: list[str], newline: str = "\n") -> bytes:
    return (newline.join(rows) + newline).encode()


def _good(n_clients: int = 2, per: int = 4) -> list[str]:
    return ["client,x,label"] + [f"{'ABCD'[c]},{i + 0.5},{i % 2}" for c in range(n_clients)
                                 for i in range(per)]


def _zip(members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = compress
            zf.writestr(info, data)
    return buf.getvalue()


def _npz(**arrays) -> bytes:
    """An NPZ with fixed member times (byte-identical on every run)."""
    members = {}
    for key, arr in arrays.items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
        members[f"{key}.npy"] = buf.getvalue()
    return _zip(members, zipfile.ZIP_STORED)


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


def _leaf(user_data: dict, users=None, counts="auto") -> bytes:
    users = list(user_data) if users is None else users
    doc = {"users": users, "user_data": user_data}
    if counts == "auto":
        counts = [len(v["x"]) if isinstance(v.get("x"), list) else 0
                  for v in user_data.values()]
    if counts is not None:
        doc["num_samples"] = counts
    return _json(doc)


def _parquet(table) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _leaf_user(n: int = 3, width: int = 2) -> dict:
    return {"x": [[float(i + j) for j in range(width)] for i in range(n)],
            "y": [i % 2 for i in range(n)]}


# ---- refused files ------------------------------------------------------------------------

NEW_EXPECTED = {
    # CSV: silent changes become refusals naming row/column
    "extra_field_every_row.csv": "data row 1 (line 2) has 4 fields but the header has 3",
    "extra_field_first_row.csv": "data row 1 (line 2) has 4 fields but the header has 3",
    "extra_field_row_5.csv": "data row 5 (line 6) has 4 fields but the header has 3",
    "extra_field_after_blank.csv": "data row 3 (line 5) has 5 fields but the header has 3",
    "float32_overflow.csv": "column 'x' in 'float32_overflow.csv' has the value 1e+39 at "
                            "data row 3, outside the range of 32-bit floats",
    "float32_overflow_negative.csv": "has the value -2e+39 at data row 2, outside the range",
    "float_literal_1e400.csv": "column 'x' in 'float_literal_1e400.csv' has an infinite "
                               "value at data row 1",
    "nul_after_64k.csv": "looks binary (a NUL byte at offset 70,",
    "nul_in_first_line.csv": "looks binary (a NUL byte at offset 7, line 1)",
    "utf16_bom_odd_length.csv": "looks like UTF-16 text but cannot be decoded",
    "long_client_id.csv": "client column 'client' in 'long_client_id.csv' holds a value of "
                          "300 characters",
    "long_label.csv": "label column 'label' in 'long_label.csv' holds a value of 250 "
                      "characters",
    "duplicate_columns_spaces.csv": "duplicated column name 'x' (columns 2 and 3)",
    "all_features_empty.csv": "has no usable feature columns (all were empty)",
    "junk_numeric_decimal_comma.csv": "column 'x' in 'junk_numeric_decimal_comma.csv' is "
                                      "numeric but data row 12 holds 'n/a?'",
    "header_only_16386_columns.csv.gz": "has a header but no data rows",
    "unclosed_quote.csv": "only one column found",
    "label_nan_only_text.csv": "has only one class ('yes')",
    # gzip
    "truncated.csv.gz": "is a truncated gzip file",
    "corrupt.csv.gz": "is not valid gzip data",
    "second_member_corrupt.csv.gz": "is not valid gzip data (member 2)",
    "bomb_ratio.csv.gz": "refused as a possible gzip bomb",
    "multi_member_bomb.csv.gz": "refused as a possible gzip bomb",
    "npz_compressed.npz.gz": "only text formats",
    "leaf_truncated.json.gz": "is a truncated gzip file",
    # ZIP
    "zip_many_members_bomb.zip": "would need about",
    "zip_member_extra_field.zip": "file 'zip_member_extra_field.zip/b.csv': data row 2 "
                                  "(line 3) has 3 fields but the header has 2",
    "zip_member_newline_name.zip": "file 'a\\nb.csv' has different columns from 'a.csv'",
    "zip_duplicate_stems.zip": "two files give client id 'a'",
    "zip_backslash_traversal.zip": "unsafe path '..\\evil.csv'",
    "zip_drive_letter.zip": "unsafe path 'C:/evil.csv'",
    "zip_member_binary.zip": "file 'zip_member_binary.zip/b.csv' looks binary",
    "zip_member_float32.zip": "file 'b.csv' data row 2, outside the range of 32-bit floats",
    "zip_only_macosx.zip": "holds no CSV files",
    "zip_member_header_only.zip": "'zip_member_header_only.zip/b.csv' has a header but no "
                                  "data rows",
    "zip_member_long_text_label.zip": "label column 'label' in 'zip_member_long_text_label"
                                      ".zip' holds a value of 500 characters",
    # Parquet
    "parquet_duplicate_columns.parquet": "duplicated column name 'x' (columns 2 and 3)",
    "parquet_bytes_column.parquet": "column 'blob' holds raw bytes, not numbers or text",
    "parquet_list_column.parquet": "column 'x' holds nested values (list<element: int64>)",
    "parquet_struct_column.parquet": "column 'x' holds nested values (struct<",
    "parquet_list_bomb.parquet": "would need about",
    "parquet_float32_overflow.parquet": "has the value 1e+39 at data row 2, outside the range",
    "parquet_truncated.parquet": "is not a readable Parquet file",
    "parquet_long_client.parquet": "client column 'client' in 'parquet_long_client.parquet' "
                                   "holds a value of 1,000 characters",
    "parquet_no_rows.parquet": "has columns but no data rows",
    # NPZ
    "npz_all_nan.npz": "every feature is missing (NaN) in every sample",
    "npz_zero_width_images.npz": "have shape (6, 0, 28): a sample has no values",
    "npz_5d.npz": "not (6, 2, 2, 2, 2) (5 dimensions)",
    "npz_truncated_member.npz": "array 'x' is truncated or corrupt",
    "npz_nan_labels.npz": "label of sample 2 is missing (NaN) or infinite",
    "npz_label_names_out_of_range.npz": "y must hold integers in 0..1",
    "npz_per_client_shape_mismatch.npz": "client 'b' samples have shape (3,), others (2,)",
    "npz_text_features.npz": "features 'x' must be numbers, not dtype <U1",
    "npz_float32_overflow.npz": "has the value 1e+39 at data row 3, outside the range",
    "npz_scalar_x.npz": "not () (0 dimensions)",
    "npz_bad_header.npz": "array 'x' is not a valid NumPy array",
    "npz_x_without_y.npz": "'x_b' has no matching 'y_b'",
    # LEAF JSON
    "leaf_nan_label.json": "user 'u1' label 2 is nan (missing or infinite)",
    "leaf_huge_integer.json": "user 'u1' sample 1 holds an integer with 401 digits",
    "leaf_huge_integer_label.json": "user 'u1' label 0 is an integer with 30 digits",
    "leaf_num_samples_not_list.json": "'num_samples' must be a list of integers, not a number",
    "leaf_num_samples_strings.json": "num_samples[0] is text '3'; expected a count",
    "leaf_x_string.json": "user 'u1': 'x' must be a list of samples, not text",
    "leaf_y_string.json": "user 'u1': 'y' must be a list of labels, not text",
    "leaf_user_null.json": "users[1] is null; user ids must be text or integers",
    "leaf_label_list.json": "user 'u1' label 1 is a list; labels must be numbers or text",
    "leaf_x_numeric_text.json": "user 'u1' sample 2 holds text '1.5', not a number",
    "leaf_float32_overflow.json": "has the value 1e+39 at data row 2, outside the range",
    "leaf_infinity.json": "has an infinite value at data row 1",
    "leaf_deeply_nested.json.gz": "nests JSON lists or objects too deeply",
    "leaf_numeric_user_missing.json": "user '3' has no 'x'/'y' in user_data",
    "leaf_utf16.json": "is not UTF-8 text",
    "leaf_user_bool.json": "users[0] is true/false",
    "leaf_x_ragged_images.json": "user 'u1' sample 1 has 3 values, the first sample has 4",
}


def _zip_bomb(members: int = 120, size: int = 10**6) -> bytes:
    """Many 1 MB members (each under the per-member ratio rule), bzip2: ~40 KB in all."""
    row = ",".join(["0"] * 49) + "\n"
    body = ("label," + ",".join(f"x{j}" for j in range(48)) + "\n"
            + row * (size // len(row))).encode()
    return _zip({f"c{i:03d}.csv": body for i in range(members)}, zipfile.ZIP_BZIP2)


def _parquet_list_bomb(values: int = 150_000_000, batch: int = 10_000_000) -> bytes:
    """A list column of 150 M zeros in a few KB (old reader: ~3.5 GB peak)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    schema = pa.schema([("client", pa.string()), ("label", pa.int64()),
                        ("x", pa.list_(pa.int64()))])
    with pq.ParquetWriter(buf, schema, compression="zstd") as writer:
        zeros = pa.array(np.zeros(batch, dtype=np.int64))
        for _ in range(values // batch):
            x = pa.ListArray.from_arrays(pa.array([0, batch], pa.int32()), zeros)
            writer.write_table(pa.table({"client": ["a"], "label": [0], "x": x},
                                        schema=schema))
    return buf.getvalue()


def _npz_truncated() -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.arange(24.0).reshape(6, 4))
    cut = buf.getvalue()[:-40]
    return _zip({"x.npy": cut, "y.npy": _npy(np.array([0, 1] * 3)),
                 "client.npy": _npy(np.array(list("aaabbb")))}, zipfile.ZIP_STORED)


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


def _stacked(x, y=None, client=None, **extra) -> bytes:
    n = len(x) if np.ndim(x) else 6
    y = np.array([0, 1] * (n // 2)) if y is None else y
    client = np.array(["a"] * (n // 2) + ["b"] * (n - n // 2)) if client is None else client
    return _npz(x=x, y=y, client=client, **extra)


def _csv_bad() -> dict[str, bytes]:
    good_block = "".join(f"{'AB'[i % 2]},{i}.25,{i % 2}\n" for i in range(9000))
    pad = ("client,x,label\n" + good_block).encode()
    return {
        "extra_field_every_row.csv": _csv(["client,x,label"] + [f"{'AB'[i % 2]},{i},{i % 2},9"
                                                                for i in range(6)]),
        "extra_field_first_row.csv": _csv(["client,x,label", "A,1,0,7"] + _good()[1:]),
        "extra_field_row_5.csv": _csv(_good()[:5] + ["B,9,1,8"] + _good()[5:]),
        "extra_field_after_blank.csv": _csv(["client,x,label", "A,1,0", "", "A,2,1",
                                             "B,3,0,4,5", "B,4,1"]),
        "float32_overflow.csv": _csv(["client,x,label", "A,1,0", "A,2,1", "A,1e39,0",
                                      "B,4,1", "B,5,0"]),
        "float32_overflow_negative.csv": _csv(["client,x,label", "A,1,0", "A,-2e39,1",
                                               "B,4,1", "B,5,0"]),
        "float_literal_1e400.csv": _csv(["client,x,label", "A,1e400,0", "A,2,1", "B,4,1",
                                         "B,5,0"]),
        "nul_after_64k.csv": pad[:70_000] + b"\x00" + pad[70_000:71_000],
        "nul_in_first_line.csv": b"client,\x00x,label\nA,1,0\n",
        "utf16_bom_odd_length.csv": "client,x,label\nA,1,0\n".encode("utf-16") + b"\x00",
        "long_client_id.csv": _csv(["client,x,label", f"{'c' * 300},1,0", f"{'c' * 300},2,1",
                                    "B,3,0", "B,4,1"]),
        "long_label.csv": _csv(["client,x,label", f"A,1,{'y' * 250}", "A,2,no", "B,3,no",
                                "B,4,no"]),
        "duplicate_columns_spaces.csv": _csv(["client,x , x,label", "A,1,2,0", "A,2,3,1"]),
        "all_features_empty.csv": _csv(["client,x,label", "A,,0", "A,,1", "B,,0", "B,,1"]),
        "junk_numeric_decimal_comma.csv": _csv(["client;x;label"] + [
            f"{'AB'[i % 2]};{i},5;{i % 2}" for i in range(11)] + ["A;n/a?;1"] + [
            f"B;{i},25;0" for i in range(10)]),
        "header_only_16386_columns.csv.gz": _gz(_csv(["client,label," + ",".join(
            f"p{j}" for j in range(16384))])),
        "unclosed_quote.csv": _csv(['"client,x,label', "A,1,0", "B,2,1"]),
        "label_nan_only_text.csv": _csv(["client,x,label", "A,1,yes", "A,2,", "B,3,yes",
                                         "B,4,yes"]),
    }


def _gzip_bad() -> dict[str, bytes]:
    table = _csv(_good())
    zeros = _gz(b"0" * (2 * 2**20))
    return {
        "truncated.csv.gz": _gz(table)[:-12],
        "corrupt.csv.gz": b"\x1f\x8b\x08\x00" + b"not deflate data at all" * 3,
        "second_member_corrupt.csv.gz": _gz(table) + b"\x1f\x8b\x08\x00garbage-garbage",
        "bomb_ratio.csv.gz": _gz(b"client,x,label\n" + b"0" * (3 * 2**20)),
        "multi_member_bomb.csv.gz": _gz(b"client,x,label\n") + zeros + zeros,
        "npz_compressed.npz.gz": _gz(b"PK\x05\x06" + b"\x00" * 18),
        "leaf_truncated.json.gz": _gz(_leaf({"u1": _leaf_user()}))[:-10],
    }


#: Committed bombs: slow to generate (seconds), so the match test may skip them.
COMMITTED_BOMBS = ("zip_many_members_bomb.zip", "parquet_list_bomb.parquet")


def _zip_bad(bombs: bool = True) -> dict[str, bytes]:
    a = _csv(["x,label", "1,0", "2,1", "3,0"])
    return {
        **({"zip_many_members_bomb.zip": _zip_bomb()} if bombs else {}),
        "zip_member_extra_field.zip": _zip({"a.csv": a, "b.csv": _csv(["x,label", "1,0",
                                                                       "2,1,3", "4,0"])}),
        "zip_member_newline_name.zip": _zip({"a.csv": a, "a\nb.csv": _csv(["z,label",
                                                                         "1,0"])}),
        "zip_duplicate_stems.zip": _zip({"a.csv": a, "more/a.csv": a}),
        "zip_backslash_traversal.zip": _zip({"..\\evil.csv": a}),
        "zip_drive_letter.zip": _zip({"C:/evil.csv": a}),
        "zip_member_binary.zip": _zip({"a.csv": a, "b.csv": b"x,label\n\x00\x01\x02"}),
        "zip_member_float32.zip": _zip({"a.csv": a, "b.csv": _csv(["x,label", "1,0",
                                                                   "5e38,1", "2,0"])}),
        "zip_only_macosx.zip": _zip({"__MACOSX/._a.csv": a, ".hidden.csv": a}),
        "zip_member_header_only.zip": _zip({"a.csv": a, "b.csv": b"x,label\n"}),
        "zip_member_long_text_label.zip": _zip({"a.csv": a, "b.csv": _csv([
            "x,label", f"1,{'L' * 500}", "2,0"])}),
    }


def _parquet_bad(bombs: bool = True) -> dict[str, bytes]:
    import pyarrow as pa

    base = {"client": ["a", "a", "b", "b"], "label": [0, 1, 0, 1]}
    return {
        "parquet_duplicate_columns.parquet": _parquet(pa.Table.from_arrays(
            [pa.array(["a", "a", "b", "b"]), pa.array([1.0] * 4), pa.array([2.0] * 4),
             pa.array([0, 1, 0, 1])], names=["client", "x", "x", "label"])),
        "parquet_bytes_column.parquet": _parquet(pa.table({**base, "blob": [b"\xff\x00"] * 4})),
        "parquet_list_column.parquet": _parquet(pa.table({**base, "x": [[1, 2], [3], [], [4]]})),
        "parquet_struct_column.parquet": _parquet(pa.table({**base, "x": [{"a": 1, "b": 2}] * 4})),
        **({"parquet_list_bomb.parquet": _parquet_list_bomb()} if bombs else {}),
        "parquet_float32_overflow.parquet": _parquet(pa.table({**base, "x": [1, 1e39, 2, 3]})),
        "parquet_truncated.parquet": _parquet(pa.table({**base, "x": [1.0, 2, 3, 4]}))[:-30],
        "parquet_long_client.parquet": _parquet(pa.table({
            "client": ["k" * 1000] * 2 + ["b"] * 2, "label": [0, 1, 0, 1], "x": [1.0] * 4})),
        "parquet_no_rows.parquet": _parquet(pa.table({"client": pa.array([], pa.string()),
                                                      "x": pa.array([], pa.float64()),
                                                      "label": pa.array([], pa.int64())})),
    }


def _npz_bad() -> dict[str, bytes]:
    x = np.arange(12.0).reshape(6, 2)
    overflow = x.copy()
    overflow[2, 1] = 1e39
    bad_header = _npy(x).replace(b"'descr'", b"'dexcr'", 1)
    return {
        "npz_all_nan.npz": _stacked(np.full((6, 3), np.nan)),
        "npz_zero_width_images.npz": _stacked(np.zeros((6, 0, 28), np.uint8)),
        "npz_5d.npz": _stacked(np.zeros((6, 2, 2, 2, 2))),
        "npz_truncated_member.npz": _npz_truncated(),
        "npz_nan_labels.npz": _stacked(x, y=np.array([0, 1, np.nan, 1, 0, 1])),
        "npz_label_names_out_of_range.npz": _stacked(x, y=np.array([0, 1, 2, 0, 1, 0]),
                                                     label_names=np.array(["no", "yes"])),
        "npz_per_client_shape_mismatch.npz": _npz(x_a=np.zeros((3, 2)), y_a=np.array([0, 1, 0]),
                                                  x_b=np.zeros((3, 3)), y_b=np.array([1, 0, 1])),
        "npz_text_features.npz": _stacked(np.array([["a", "b"]] * 6)),
        "npz_float32_overflow.npz": _stacked(overflow),
        "npz_scalar_x.npz": _npz(x=np.float64(3.0), y=np.array([0, 1]),
                                 client=np.array(["a", "b"])),
        "npz_bad_header.npz": _zip({"x.npy": bad_header, "y.npy": _npy(np.array([0, 1] * 3)),
                                    "client.npy": _npy(np.array(list("aaabbb")))},
                                   zipfile.ZIP_STORED),
        "npz_x_without_y.npz": _npz(x_a=np.zeros((3, 2)), y_a=np.array([0, 1, 0]),
                                    x_b=np.zeros((3, 2))),
    }


def _leaf_bad() -> dict[str, bytes]:
    u = _leaf_user()
    nan_label = json.dumps({"users": ["u1"], "num_samples": [3], "user_data": {"u1": {
        "x": u["x"], "y": [0, 1, float("nan")]}}}).encode()
    return {
        "leaf_nan_label.json": nan_label,
        "leaf_huge_integer.json": (b'{"users": ["u1"], "num_samples": [3], "user_data": '
                                   b'{"u1": {"x": [[1, 2], [' + b"9" * 401
                                   + b', 1], [3, 4]], "y": [0, 1, 0]}}}'),
        "leaf_huge_integer_label.json": _leaf({"u1": {"x": u["x"], "y": [10**29, 1, 0]}}),
        "leaf_num_samples_not_list.json": _leaf({"u1": u}, counts=3),
        "leaf_num_samples_strings.json": _leaf({"u1": u}, counts=["3"]),
        "leaf_x_string.json": _leaf({"u1": {"x": "abc", "y": "abc"}}, counts=[3]),
        "leaf_y_string.json": _leaf({"u1": {"x": u["x"], "y": "abc"}}),
        "leaf_user_null.json": _leaf({"u1": u}, users=["u1", None], counts=[3, 3]),
        "leaf_label_list.json": _leaf({"u1": {"x": u["x"], "y": [0, [1], 0]}}),
        "leaf_x_numeric_text.json": _leaf({"u1": {"x": [[1, 0], [1, 0], ["1.5", 1]],
                                                  "y": u["y"]}}),
        "leaf_float32_overflow.json": _leaf({"u1": {"x": [[1, 0], [1e39, 0], [0, 1]],
                                                    "y": u["y"]}}),
        "leaf_infinity.json": (b'{"users": ["u1"], "num_samples": [3], "user_data": {"u1": '
                               b'{"x": [[Infinity, 0], [1, 0], [0, 1]], "y": [0, 1, 0]}}}'),
        "leaf_deeply_nested.json.gz": _gz(b"[" * 100_000 + b"]" * 100_000),
        "leaf_numeric_user_missing.json": _leaf({"1": u, "2": u}, users=[1, 3], counts=[3, 3]),
        "leaf_utf16.json": _leaf({"u1": u}).decode().encode("utf-16"),
        "leaf_user_bool.json": _leaf({"u1": u}, users=[True], counts=[3]),
        "leaf_x_ragged_images.json": _leaf({"u1": {"x": [[[0, 1], [1, 0]], [[0, 1], [1]],
                                                         [[1, 1], [0, 0]]], "y": u["y"]}}),
    }


def new_bad_files(bombs: bool = True) -> dict[str, bytes]:
    files = {**_csv_bad(), **_gzip_bad(), **_zip_bad(bombs), **_parquet_bad(bombs),
             **_npz_bad(), **_leaf_bad()}
    expected = set(NEW_EXPECTED) - (set() if bombs else set(COMMITTED_BOMBS))
    assert set(files) == expected, set(files) ^ expected
    return files


# ---- odd but valid: read exactly as written -------------------------------------------------

#: file -> expected reading: sorted client ids, rows, feature names (or their count), a note
ODD = {
    "multi_member.csv.gz": {"clients": ["A", "B", "C"], "rows": 12, "features": ["x"]},
    "client_ids_as_written.csv": {"clients": ["01", "1", "1.0"], "rows": 6,
                                  "features": ["x"]},
    "leaf_numeric_users.json": {"clients": ["1", "2"], "rows": 6, "features": ["x0", "x1"]},
    "utf16_le_no_bom.csv": {"clients": ["A", "B"], "rows": 8, "features": ["x"],
                            "note": "UTF-16 encoded without a BOM"},
    "utf16_be_no_bom.csv": {"clients": ["A", "B"], "rows": 8, "features": ["x"],
                            "note": "UTF-16 encoded without a BOM"},
    "pixels_128x128.csv.gz": {"clients": ["a", "b", "c"], "rows": 6, "n_features": 16384},
    "quoted_header_newline.csv": {"clients": ["A", "B"], "rows": 8,
                                  "features": ["x\ny", "z"]},
    "long_text_feature.csv": {"clients": ["A", "B"], "rows": 8, "features": ["x"],
                              "note": "dropped text column 'comment' (a value of 5,000"},
    "negative_numbers.csv": {"clients": ["A", "B"], "rows": 8, "features": ["x"],
                             "x_sum": -1.0},
    "float32_max_edge.csv": {"clients": ["A", "B"], "rows": 4, "features": ["x"]},
    "crlf_lines.csv": {"clients": ["A", "B"], "rows": 8, "features": ["x"]},
    "zip_with_metadata.zip": {"clients": ["a", "b"], "rows": 6, "features": ["x"]},
    "parquet_int_clients.parquet": {"clients": ["1", "2"], "rows": 4, "features": ["x"]},
    "parquet_dictionary_text.parquet": {"clients": ["a", "b"], "rows": 4,
                                        "features": ["x", "kind=u", "kind=v"]},
    "npz_uint8_images.npz": {"clients": ["a", "b"], "rows": 6, "n_features": 16,
                             "note": "uint8 pixel values were divided by 255"},
    "leaf_float_integral_labels.json": {"clients": ["u1", "u2"], "rows": 6,
                                        "features": ["x0", "x1"]},
    "leaf_bool_features.json": {"clients": ["u1"], "rows": 3, "features": ["x0", "x1"],
                                 "x_sum": 2.0},
    "client_named_like_formula.csv": {"clients": ["+cmd", "=HYPERLINK(1)"], "rows": 4,
                                      "features": ["x"]},
}


def odd_files() -> dict[str, bytes]:
    import pyarrow as pa

    plain = _csv(_good())
    pixels = ["client,label," + ",".join(f"p{j}" for j in range(16384))]
    pixels += [f"{c},{i % 2}," + ",".join(["0"] * 16384) for c in "abc" for i in range(2)]
    u = _leaf_user()
    files = {
        "multi_member.csv.gz": (_gz(_csv(_good(2)))
                                + _gz(_csv([f"C,{i},{i % 2}" for i in range(4)]))),
        "client_ids_as_written.csv": _csv(["client,x,label", "1,1,0", "1,2,1", "01,3,0",
                                           "01,4,1", "1.0,5,0", "1.0,6,1"]),
        "leaf_numeric_users.json": _leaf({"1": u, "2": u}, users=[1, 2]),
        "utf16_le_no_bom.csv": plain.decode().encode("utf-16-le"),
        "utf16_be_no_bom.csv": plain.decode().encode("utf-16-be"),
        "pixels_128x128.csv.gz": _gz(_csv(pixels)),
        "quoted_header_newline.csv": _csv(['client,"x\ny",z,label'] + [
            f"{'AB'[i // 4]},{i},{i * 2},{i % 2}" for i in range(8)]),
        "long_text_feature.csv": _csv(["client,x,comment,label"] + [
            f"{'AB'[i // 4]},{i},{'w' * 5000 if i == 0 else 'short'},{i % 2}"
            for i in range(8)]),
        "negative_numbers.csv": _csv(["client,x,label"] + [
            f"{'AB'[i // 4]},{-0.5 if i % 2 else 0.25},{i % 2}" for i in range(8)]),
        "float32_max_edge.csv": _csv(["client,x,label", "A,3.4e38,0", "A,-3.4e38,1",
                                      "B,1,0", "B,2,1"]),
        "crlf_lines.csv": _csv(_good(), newline="\r\n"),
        "zip_with_metadata.zip": _zip({"a.csv": _csv(["x,label", "1,0", "2,1", "3,0"]),
                                       "sub/b.csv": _csv(["x,label", "1,0", "2,1", "3,0"]),
                                       "__MACOSX/._a.csv": b"\x00\x05\x16\x07",
                                       ".DS_Store": b"\x00\x00\x00\x01Bud1"}),
        "parquet_int_clients.parquet": _parquet(pa.table({"client": [1, 1, 2, 2],
                                                          "x": [0.5, 1.5, 2.5, 3.5],
                                                          "label": [0, 1, 0, 1]})),
        "parquet_dictionary_text.parquet": _parquet(pa.table({
            "client": ["a", "a", "b", "b"], "x": [1.0, 2, 3, 4],
            "kind": pa.array(["u", "v", "u", "v"]).dictionary_encode(),
            "label": [0, 1, 0, 1]})),
        "npz_uint8_images.npz": _stacked(np.arange(96, dtype=np.uint8).reshape(6, 4, 4)),
        "leaf_float_integral_labels.json": _leaf({"u1": {"x": u["x"], "y": [0.0, 1.0, 0.0]},
                                                  "u2": {"x": u["x"], "y": [1.0, 0.0, 1.0]}}),
        "leaf_bool_features.json": _leaf({"u1": {"x": [[True, 0], [1, 0], [0, False]],
                                                 "y": u["y"]}}),
        "client_named_like_formula.csv": _csv(["client,x,label", "=HYPERLINK(1),1,0",
                                               "=HYPERLINK(1),2,1", "+cmd,3,0", "+cmd,4,1"]),
    }
    assert set(files) == set(ODD), set(files) ^ set(ODD)
    return files


# ---- bombs too large to commit (expansion ratio <= 100): written at test time ------------

BOMBS = {
    "zip_many_members_bomb.zip": "would need about",       # committed in bad/
    "parquet_list_bomb.parquet": "would need about",       # committed in bad/
    "long_text_field.csv": None,                           # read: the field is dropped
    "npz_uint8_bomb.npz": "would need about",
    "leaf_many_rows.json": "would need about",
    "multi_member_digits.csv.gz": "would need about",
}


def write_big_bomb(name: str, path) -> None:
    """Write one of the bombs that cannot be small to ``path`` (~60-190 MB)."""
    rng = np.random.default_rng(0)
    with open(path, "wb") as fh:
        if name == "long_text_field.csv":
            fh.write(b"client,x,comment,label\n")
            for i in range(8):
                fh.write(f"{'AB'[i // 4]},{i},".encode())
                fh.write(b"q" * (50 * 2**20) if i == 0 else b"short")
                fh.write(f",{i % 2}\n".encode())
        elif name == "npz_uint8_bomb.npz":
            x = np.zeros((190_000, 32, 32), np.uint8)
            buf = io.BytesIO()
            np.savez(buf, x=x, y=np.arange(190_000) % 2,
                     client=np.repeat(np.array(["a", "b"]), 95_000))
            fh.write(buf.getvalue())
        elif name == "leaf_many_rows.json":
            n = 30_000_000
            fh.write(b'{"users": ["u"], "num_samples": [%d], "user_data": {"u": {"x": [' % n)
            fh.write(b"[0]," * (n - 1) + b'[0]], "y": [' + b"0," * (n - 1) + b"1]}}}")
        elif name == "multi_member_digits.csv.gz":
            digits = rng.integers(0, 10, size=40_000_000, dtype=np.uint8) + ord("0")
            body = np.empty(80_000_000, np.uint8)
            body[0::2], body[1::2] = digits, ord(",")
            body[1::2][49::50] = ord("\n")
            head = ("client," + ",".join(f"x{j}" for j in range(48)) + ",label\n").encode()
            half = len(body) // 2 // 100 * 100
            fh.write(gzip.compress(head + body[:half].tobytes(), 1, mtime=0))
            fh.write(gzip.compress(body[half:].tobytes(), 1, mtime=0))
        else:
            raise KeyError(name)


