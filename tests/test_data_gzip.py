"""Gzip-compressed text uploads (``.csv.gz``): read like the plain file, bombs refused."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fedcore.cli import main
from fedcore.data import load_upload, read_table_columns
from fedcore.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "data"


def table_csv() -> bytes:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"site": np.repeat(["a", "b", "c"], 20), "x": rng.normal(size=60),
                       "y": rng.integers(0, 2, size=60)})
    return df.to_csv(index=False).encode()


def test_csv_gz_reads_exactly_like_the_plain_csv():
    plain = table_csv()
    a = load_upload(plain, filename="t.csv", client_column="site", label_column="y")
    b = load_upload(gzip.compress(plain), filename="t.csv.gz", client_column="site",
                    label_column="y")
    assert a.fingerprint() == b.fingerprint()
    assert read_table_columns(gzip.compress(plain), filename="t.csv.gz") == ["site", "x", "y"]


@pytest.mark.parametrize("content, name, message", [
    (gzip.compress(b"0" * (60 * 2**20), mtime=0), "bomb.csv.gz", "possible gzip bomb"),
    (gzip.compress(table_csv(), mtime=0)[:-20], "cut.csv.gz", "truncated gzip"),
    (b"this is not gzip at all", "fake.csv.gz", "not valid gzip"),
    (gzip.compress(b"PAR1", mtime=0), "t.parquet.gz", "only text formats"),
], ids=["bomb", "truncated", "not-gzip", "parquet"])  # stable ids: xdist workers must agree
def test_bad_gzip_uploads_get_a_clear_message(content, name, message):
    with pytest.raises(DataError, match=message):
        load_upload(content, filename=name)


def test_inspect_reads_a_gzipped_csv(tmp_path, capsys):
    path = tmp_path / "heart.csv.gz"
    path.write_bytes(gzip.compress((DATA / "heart_disease_uci.csv").read_bytes()))
    assert main(["inspect", str(path)]) == 0
    assert "clients:   4" in capsys.readouterr().out


def test_every_gzip_member_is_read():
    first = b"client,x,label\n" + b"".join(b"A,%d,%d\n" % (i, i % 2) for i in range(4))
    second = b"".join(b"B,%d,%d\n" % (i, i % 2) for i in range(4))
    data = load_upload(gzip.compress(first) + gzip.compress(second) + b"\x00" * 8,
                       filename="cat.csv.gz")
    assert data.client_ids == ["A", "B"]
