"""Property tests (hypothesis): CSV round trips and partitions are disjoint and exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fedcore.data import load_upload
from fedcore.errors import ConfigError
from fedcore.partition import partition_indices
from fedcore.partition.federate import stratified_split

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw):
    n_clients = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(2, 8), min_size=n_clients, max_size=n_clients))
    n = sum(sizes)
    clients = np.repeat([f"site{i}" for i in range(n_clients)], sizes)
    labels = draw(st.lists(st.sampled_from(["ill", "well", "unsure"]), min_size=n,
                           max_size=n).filter(lambda v: len(set(v)) >= 2))
    n_num = draw(st.integers(1, 3))
    data = {"client": clients}
    for j in range(n_num):
        data[f"f{j}"] = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32),
                                      min_size=n, max_size=n))
    if draw(st.booleans()):
        data["colour"] = draw(st.lists(st.sampled_from(["red", "green"]), min_size=n,
                                       max_size=n))
    data["label"] = labels
    return pd.DataFrame(data)


@SETTINGS
@given(frame=tables(), seed=st.integers(0, 2**16))
def test_csv_round_trip(tmp_path_factory, frame, seed):
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    frame.to_csv(path, index=False)
    data = load_upload(path, seed=seed)
    assert sum(map(len, data.y_train)) + sum(map(len, data.y_test)) == len(frame)
    assert data.client_ids == sorted(frame["client"].unique())
    assert data.label_names == sorted(frame["label"].unique())
    counts = data.label_counts("train").sum() + data.label_counts("test").sum()
    assert counts.to_dict() == frame["label"].value_counts().to_dict()
    assert all(len(y) >= 1 for y in data.y_test) and all(len(y) >= 1 for y in data.y_train)
    assert all(np.isfinite(x).all() for x in data.x_train + data.x_test)


@SETTINGS
@given(n_pool=st.integers(20, 400), n_classes=st.integers(2, 6),
       n_clients=st.integers(1, 12), n_groups=st.integers(1, 4),
       per_client=st.integers(2, 40), seed=st.integers(0, 2**20),
       scenario=st.sampled_from(["iid", "dirichlet", "label-skew", "quantity-skew",
                                 "rotation", "label-swap"]))
def test_partitions_disjoint_and_deterministic(n_pool, n_classes, n_clients, n_groups,
                                               per_client, seed, scenario):
    assume(n_groups <= n_clients)
    y = np.random.default_rng(seed).integers(0, n_classes, n_pool)
    assume(len(np.unique(y)) == n_classes)
    try:
        idx, groups = partition_indices(y, scenario, n_clients, n_groups, per_client, seed)
    except ConfigError as exc:  # pool too small or too few classes: said clearly
        assert "samples" in str(exc) or "classes" in str(exc) or "groups" in str(exc)
        return
    allidx = np.concatenate(list(idx.values()))
    assert len(allidx) == len(np.unique(allidx))
    assert allidx.min() >= 0 and allidx.max() < n_pool
    expected = per_client * n_clients if scenario != "quantity-skew" else None
    if expected is not None:
        assert len(allidx) == expected
    again, groups2 = partition_indices(y, scenario, n_clients, n_groups, per_client, seed)
    assert all(np.array_equal(idx[k], again[k]) for k in idx)
    if groups is not None:
        assert np.array_equal(groups, groups2) and len(groups) == n_clients


@SETTINGS
@given(labels=st.lists(st.integers(0, 3), min_size=2, max_size=60),
       fraction=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_stratified_split_is_a_partition(labels, fraction, seed):
    y = np.array(labels)
    train, test = stratified_split(y, fraction, np.random.default_rng(seed))
    assert len(train) >= 1 and len(test) >= 1
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(y)))
    # every class's test share is within one sample of the proportional share
    n_test = len(test)
    for c in np.unique(y):
        share = (y == c).sum() * n_test / len(y)
        assert abs((y[test] == c).sum() - share) <= 1 + 1e-9


def _valid_upload_bytes(ext: str) -> bytes:
    import io
    import json
    import zipfile

    csv = b"client,x,c,label\nA,1,u,0\nA,2,v,1\nA,3,u,0\nB,4,v,1\nB,5,u,0\n"
    if ext == ".csv":
        return csv
    buf = io.BytesIO()
    if ext == ".zip":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a.csv", csv)
            zf.writestr("b.csv", csv)
    elif ext == ".npz":
        np.savez(buf, x=np.arange(12.0).reshape(6, 2), y=np.array([0, 1] * 3),
                 client=np.array(list("aaabbb")))
    elif ext == ".parquet":
        pd.read_csv(io.BytesIO(csv)).to_parquet(buf)
    else:
        buf.write(json.dumps({"users": ["u"], "num_samples": [2],
                              "user_data": {"u": {"x": [[1], [2]], "y": [0, 1]}}}).encode())
    return buf.getvalue()


@SETTINGS
@given(ext=st.sampled_from([".csv", ".zip", ".npz", ".parquet", ".json"]),
       cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                           max_size=4))
def test_damaged_uploads_fail_only_with_data_error(ext, cut, flips):
    """Truncated or byte-flipped files either load or raise DataError (never another type)."""
    from fedcore.errors import DataError

    data = bytearray(_valid_upload_bytes(ext))
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = bytes(data[: max(1, int(cut * len(data)))]) if cut < 0.98 else bytes(data)
    try:
        fed = load_upload(data, filename=f"f{ext}")
    except DataError as exc:
        assert "\n" not in str(exc)
    else:
        assert fed.n_clients >= 1


def test_task_is_classification_or_regression_and_regression_changes_the_fingerprint():
    import numpy as np
    import pytest

    from fedcore.dataset import FederatedDataset, PooledData
    from fedcore.errors import DataError

    x = [np.zeros((2, 1), np.float32)]
    y = [np.array([0.5, 1.5], np.float32)]
    args = (["a"], x, y, x, y, ["x"], ["pm25"], (1,))
    reg = FederatedDataset(*args, task="regression")
    assert reg.is_regression and reg.n_outputs == 1
    assert reg.fingerprint() != FederatedDataset(*args).fingerprint()
    with pytest.raises(DataError, match="unknown task"):
        FederatedDataset(*args, task="ranking")
    with pytest.raises(DataError, match="unknown task"):
        PooledData(np.zeros((2, 1), np.float32), np.zeros(2), ["x"], ["y"], (1,), task="")
