"""Generate the input corpus: ``tests/data/bad/`` (refused) and ``tests/data/odd/`` (read).

Run ``python tests/data/make_bad_corpus.py`` to rewrite both folders. The files are
committed and small (< 50 KB; the two committed bombs < 200 KB, small by nature). Bombs
that cannot be small (their expansion ratio is capped at 100) are written at test time by
:func:`write_big_bomb` (see ``tests/test_data_memory.py``).

Manifests
---------
``EXPECTED``: bad file -> fragment of the one-line DataError it must raise.
``ODD``: odd-but-valid file -> what it must read as (clients, rows, features, notes).
``BOMBS``: bomb name -> fragment of its refusal (peak memory is asserted by a subprocess).
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
from corpus_cases import COMMITTED_BOMBS, NEW_EXPECTED, ODD, new_bad_files, odd_files  # noqa: E402

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2020, 1, 1, 0, 0, 0)

EXPECTED = {
    "empty.csv": "is empty",
    "whitespace_only.csv": "is empty",
    "header_only.csv": "has a header but no data rows",
    "single_column.csv": "only one column found",
    "no_header.csv": "has no header row",
    "binary.csv": "looks binary",
    "missing_client_column.csv": "no client column found",
    "missing_label_column.csv": "no label column found",
    "one_class.csv": "has only one class ('yes')",
    "client_one_sample.csv": "client 'B' has 1 sample; each client needs at least 2",
    "inf_value.csv": "column 'x' in 'inf_value.csv' has an infinite value at data row 3",
    "junk_numeric.csv": "column 'x' in 'junk_numeric.csv' is numeric but data row 7 holds 'abc'",
    "duplicate_columns.csv": "duplicated column name 'x' (columns 2 and 3)",
    "label_all_missing.csv": "label column 'label' in 'label_all_missing.csv' has no values",
    "regression_label.csv": "has 150 distinct values",
    "ragged_rows.csv": "data row 2 (line 3) has 5 fields but the header has 3",
    "unsupported.xlsx": "unsupported file type '.xlsx'",
    "corrupt.parquet": "is not a readable Parquet file",
    "zip_traversal.zip": "unsafe path '../evil.csv'",
    "zip_absolute.zip": "unsafe path '/etc/evil.csv'",
    "zip_nested.zip": "contains another archive 'inner.zip'",
    "zip_nested_disguised.zip": "contains another archive 'b.csv'",
    "zip_mismatched_columns.zip": "file 'b.csv' has different columns from 'a.csv'",
    "zip_corrupt.zip": "is not a valid ZIP archive",
    "zip_no_csv.zip": "holds no CSV files",
    "zip_client_one_sample.zip": "client 'b' has 1 sample",
    "zip_declared_huge.zip": "rejected as a possible zip bomb",
    "npz_object.npz": "holds Python objects (pickled)",
    "npz_missing_client.npz": "no 'client' array",
    "npz_length_mismatch.npz": "must have the same length",
    "npz_unknown_layout.npz": "has neither arrays 'x', 'y', 'client'",
    "npz_corrupt.npz": "is not a valid ZIP archive",
    "npz_client_zero_samples.npz": "client 'b' has 0 samples",
    "leaf_inconsistent.json": "inconsistent counts for user 'u2' (num_samples says 5, x has 3",
    "leaf_bad_json.json": "is not valid JSON (line",
    "leaf_not_leaf.json": "is not in LEAF format",
    "leaf_ragged.json": "user 'u1' sample 1 has 1 values, the first sample has 2",
    **NEW_EXPECTED,
}


def _table(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def _good_rows(n_clients: int = 2, per_client: int = 4) -> list[str]:
    rows = ["client,x,label"]
    for c in range(n_clients):
        rows += [f"{'AB'[c]},{i + 0.5},{i % 2}" for i in range(per_client)]
    return rows


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _declared_huge() -> bytes:
    """A valid tiny ZIP whose central directory claims a 4 GB member (patched size)."""
    data = bytearray(_zip({"a.csv": _table(_good_rows())}))
    pos = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, pos + 24, 0xFFFFFFF0)
    return bytes(data)


def corpus(bombs: bool = True) -> dict[str, bytes]:
    """File name -> bytes of every corpus file (``bombs=False``: without the slow ones)."""
    good_client = "a.csv"
    files = {
        "empty.csv": b"",
        "whitespace_only.csv": b"\n  \n\n",
        "header_only.csv": b"client,x,label\n",
        "single_column.csv": _table(["client x label", "A 1 0", "A 2 1", "B 3 0", "B 4 1"]),
        "no_header.csv": _table(["1,2,0", "1,3,1", "2,4,0", "2,5,1"]),
        "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)),
        "missing_client_column.csv": _table(["patient,x,label", "p1,1,0", "p2,2,1"]),
        "missing_label_column.csv": _table(["client,x,z", "A,1,0", "A,2,1"]),
        "one_class.csv": _table(["client,x,label"] + [f"{c},{i},yes" for c in "AB"
                                                      for i in range(3)]),
        "client_one_sample.csv": _table(["client,x,label", "A,1,0", "A,2,1", "A,3,0",
                                         "B,4,1"]),
        "inf_value.csv": _table(["client,x,label", "A,1,0", "A,2,1", "A,inf,0", "B,4,1",
                                 "B,5,0"]),
        "junk_numeric.csv": _table(["client,x,label"] + [f"{'AB'[i % 2]},{i}.5,{i % 2}"
                                                         for i in range(6)]
                                   + ["B,abc,1"] + [f"A,{i},0" for i in range(7, 20)]),
        "duplicate_columns.csv": _table(["client,x,x,label", "A,1,2,0", "A,2,3,1"]),
        "label_all_missing.csv": _table(["client,x,label", "A,1,", "A,2,", "B,3,"]),
        "regression_label.csv": _table(["client,x,label"] + [
            f"{'AB'[i % 2]},{i},{i * 0.37:.2f}" for i in range(150)]),
        "ragged_rows.csv": _table(["client,x,label", "A,1,0", "A,2,1,7,8", "B,3,0"]),
        "unsupported.xlsx": b"PK\x03\x04 not really a spreadsheet",
        "corrupt.parquet": b"PAR1" + b"\x00garbage" * 20 + b"PAR1",
        "zip_traversal.zip": _zip({"../evil.csv": _table(_good_rows())}),
        "zip_absolute.zip": _zip({"/etc/evil.csv": _table(_good_rows())}),
        "zip_nested.zip": _zip({good_client: _table(_good_rows()),
                                "inner.zip": _zip({"b.csv": _table(_good_rows())})}),
        "zip_nested_disguised.zip": _zip({good_client: _table(_good_rows()),
                                          "b.csv": _zip({"c.csv": _table(_good_rows())})}),
        "zip_mismatched_columns.zip": _zip({good_client: _table(_good_rows()),
                                            "b.csv": _table(["client,y,label", "A,1,0"])}),
        "zip_corrupt.zip": b"this is not a zip archive at all",
        "zip_no_csv.zip": _zip({"readme.md": b"# nothing here\n"}),
        "zip_client_one_sample.zip": _zip({good_client: _table(["x,label", "1,0", "2,1",
                                                                "3,0"]),
                                           "b.csv": _table(["x,label", "4,1"])}),
        "zip_declared_huge.zip": _declared_huge(),
        "npz_object.npz": _npz(x=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]),
                               client=np.array(["a", "a", None, "b"], dtype=object)),
        "npz_missing_client.npz": _npz(x=np.zeros((4, 2)), y=np.array([0, 1, 0, 1])),
        "npz_length_mismatch.npz": _npz(x=np.zeros((4, 2)), y=np.array([0, 1, 0]),
                                        client=np.array(["a", "a", "b", "b"])),
        "npz_unknown_layout.npz": _npz(features=np.zeros((4, 2))),
        "npz_corrupt.npz": b"PK\x05\x06" + b"\x00" * 10,
        "npz_client_zero_samples.npz": _npz(x_a=np.zeros((3, 2)), y_a=np.array([0, 1, 0]),
                                            x_b=np.zeros((0, 2)), y_b=np.zeros(0, int)),
        "leaf_inconsistent.json": json.dumps({
            "users": ["u1", "u2"], "num_samples": [3, 5],
            "user_data": {"u1": {"x": [[0, 1]] * 3, "y": [0, 1, 0]},
                          "u2": {"x": [[1, 0]] * 3, "y": [1, 0, 1]}}}).encode(),
        "leaf_bad_json.json": b'{"users": ["u1"], "num_samples": [3], "user_data": {',
        "leaf_not_leaf.json": json.dumps({"data": [1, 2, 3]}).encode(),
        "leaf_ragged.json": json.dumps({
            "users": ["u1"], "num_samples": [3],
            "user_data": {"u1": {"x": [[0, 1], [1], [2, 3]], "y": [0, 1, 0]}}}).encode(),
    }
    files.update(new_bad_files(bombs))
    expected = set(EXPECTED) - (set() if bombs else set(COMMITTED_BOMBS))
    assert set(files) == expected, set(files) ^ expected
    return files


def write_corpus(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in corpus().items():
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def write_odd(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in odd_files().items():
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


__all__ = ["EXPECTED", "ODD", "corpus", "odd_files", "write_corpus", "write_odd", "gzip"]

if __name__ == "__main__":
    for p in write_corpus(HERE / "bad") + write_odd(HERE / "odd"):
        print(f"{p.stat().st_size:>7} {p.parent.name}/{p.name}")
