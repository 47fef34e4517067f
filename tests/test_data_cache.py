"""The per-process cache of data-only representations (data summary, principal angles)."""

import dataclasses

import numpy as np
from fake_engine import tiny_dataset

from fedcore import data_cache
from fedcore.representations import data_summary, principal_angles_or_none


def data(seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(12, 5)).astype(np.float32) for _ in range(4)]
    ys = [rng.integers(0, 3, 12) for _ in range(4)]
    return tiny_dataset(4, xs, ys)


def counting(fn):
    calls = []

    def wrapped(ds):
        calls.append(ds)
        return fn(ds)
    return wrapped, calls


def test_hit_gives_identical_arrays_and_computes_once():
    data_cache.clear()
    ds = data()
    summary, calls = counting(data_summary)
    first = data_cache.cached(ds, "data_summary", summary)
    again = data_cache.cached(ds, "data_summary", summary)
    rebuilt = dataclasses.replace(ds)  # another object with equal content
    third = data_cache.cached(rebuilt, "data_summary", summary)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, data_summary(ds))
    for value in (again, third):
        assert value.dtype == first.dtype
        np.testing.assert_array_equal(value, first)
    angles = data_cache.cached(ds, "principal_angles", principal_angles_or_none)
    np.testing.assert_array_equal(angles, principal_angles_or_none(ds))


def test_different_data_is_a_different_entry():
    data_cache.clear()
    ds = data()
    other = dataclasses.replace(ds, x_train=[x + 1.0 for x in ds.x_train])
    summary, calls = counting(data_summary)
    a = data_cache.cached(ds, "data_summary", summary)
    b = data_cache.cached(other, "data_summary", summary)
    assert len(calls) == 2
    assert data_cache.dataset_fingerprint(ds) != data_cache.dataset_fingerprint(other)
    np.testing.assert_array_equal(b, data_summary(other))
    assert not np.array_equal(a, b)


def test_callers_get_copies_and_none_stays_none():
    data_cache.clear()
    ds = data()
    first = data_cache.cached(ds, "data_summary", data_summary)
    first[:] = -7.0  # a caller editing its array must not change the cache
    np.testing.assert_array_equal(data_cache.cached(ds, "data_summary", data_summary),
                                  data_summary(ds))
    assert data_cache.cached(ds, "nothing", lambda d: None) is None


def test_cache_stays_bounded():
    data_cache.clear()
    base = data()
    kept = []
    for k in range(data_cache.MAX_DATASETS + 5):
        ds = dataclasses.replace(base, x_train=[x + k for x in base.x_train])
        kept.append(ds)
        data_cache.cached(ds, "data_summary", data_summary)
    assert len(data_cache._VALUES) <= 2 * data_cache.MAX_DATASETS
    assert len(data_cache._FINGERPRINTS) <= data_cache.MAX_DATASETS
