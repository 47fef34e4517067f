"""Scenario generators: disjoint, deterministic, and each ground truth is what it claims."""

from __future__ import annotations

import numpy as np
import pytest

from fedcore.data import load_bundled
from fedcore.errors import ConfigError
from fedcore.params import Param
from fedcore.partition import SCENARIOS, make_scenario, partition_indices
from fedcore.partition.feature_shift import swap_permutations

# scenarios that draw their own clients from any pool (natural and forecasting use the
# pool's own clients; forecasting is tested in tests/test_data_timeseries.py)
SYNTHETIC = [s for s in SCENARIOS if s not in ("natural", "forecasting")]


@pytest.fixture(scope="module")
def digits():
    return load_bundled("digits")


@pytest.fixture(scope="module")
def heart():
    return load_bundled("heart")


def _rows(x):
    return {r.tobytes() for r in np.asarray(x, dtype=np.float32)}


@pytest.mark.parametrize("scenario", SYNTHETIC)
def test_disjoint_sizes_and_deterministic(digits, scenario):
    kw = dict(n_clients=12, n_groups=3, samples_per_client=40)
    idx, groups = partition_indices(digits.y, scenario, seed=5, pool=digits, **kw)
    allidx = np.concatenate(list(idx.values()))
    assert len(allidx) == len(np.unique(allidx))  # disjoint
    assert len(idx) == 12 and all(len(v) >= 4 for v in idx.values())
    if scenario != "quantity-skew":
        assert all(len(v) == 40 for v in idx.values())
    a = make_scenario(digits, scenario, seed=5, **kw)
    b = make_scenario(digits, scenario, seed=5, **kw)
    c = make_scenario(digits, scenario, seed=6, **kw)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.provenance["scenario"] == scenario and a.provenance["seed"] == 5
    assert a.provenance["params"] == SCENARIOS[scenario].validate({})
    assert a.name == f"digits / {scenario}"
    assert all(len(y) >= 1 for y in a.y_test) and all(len(y) >= 1 for y in a.y_train)


def test_mnist_20_clients_200_samples_fit(tmp_path):
    mnist = load_bundled("mnist_5k")
    fed = make_scenario(mnist, "rotation", n_clients=20, n_groups=4, samples_per_client=200)
    assert (fed.train_sizes() + fed.test_sizes()).tolist() == [200] * 20
    assert fed.true_groups.tolist() == [0, 1, 2, 3] * 5


def test_pool_too_small_is_clear(digits):
    with pytest.raises(ConfigError, match="'digits' has 1,797 samples but 20 clients x 100 "
                                          "samples need 2,000"):
        make_scenario(digits, "label-skew", n_clients=20, samples_per_client=100)


def test_minimum_two_samples_per_client(digits):
    fed = make_scenario(digits, "iid", n_clients=5, n_groups=1, samples_per_client=2)
    assert fed.train_sizes().tolist() == [1] * 5 and fed.test_sizes().tolist() == [1] * 5
    with pytest.raises(ConfigError, match="samples_per_client must be at least 2"):
        make_scenario(digits, "iid", n_clients=5, samples_per_client=1)


def test_rotation_images_are_exact_rot90(digits):
    fed = make_scenario(digits, "rotation", n_clients=4, n_groups=4, samples_per_client=30,
                        seed=2)
    idx, _ = partition_indices(digits.y, "rotation", 4, 4, 30, seed=2, pool=digits)
    for i, cid in enumerate(fed.client_ids):
        k = int(fed.true_groups[i])
        assert k == i % 4
        originals = _rows(digits.X[idx[cid]])
        for x in fed.x_train[i]:
            back = np.rot90(x.reshape(8, 8), -k)
            assert back.astype(np.float32).tobytes() in originals
    assert fed.provenance["group_transforms"][1] == "rotated 90°"


def test_tabular_rotation_is_orthogonal_per_group(heart):
    fed = make_scenario(heart, "rotation", n_clients=4, n_groups=2, samples_per_client=50,
                        seed=1)
    ref = make_scenario(heart, "iid", n_clients=4, n_groups=2, samples_per_client=50, seed=1)
    # same partition and split streams: group 0 untouched, group 1 rotated (norms kept)
    np.testing.assert_array_equal(fed.x_train[0], ref.x_train[0])
    assert not np.allclose(fed.x_train[1], ref.x_train[1])
    np.testing.assert_allclose(np.linalg.norm(fed.x_train[1], axis=1),
                               np.linalg.norm(ref.x_train[1], axis=1), rtol=1e-4)


def test_label_swap_swaps_exactly_the_pairs(digits):
    fed = make_scenario(digits, "label-swap", n_clients=6, n_groups=3, samples_per_client=40,
                        seed=4)
    perms = swap_permutations(10, 3, 1, np.random.default_rng([4, 2]))
    lookup = {x.tobytes(): int(y) for x, y in zip(digits.X, digits.y)}
    for i in range(fed.n_clients):
        perm = perms[int(fed.true_groups[i])]
        for x, y in zip(fed.x_train[i], fed.y_train[i]):
            assert y == perm[lookup[x.tobytes()]]
    assert (perms[0] == np.arange(10)).all()
    assert all((p != np.arange(10)).sum() == 2 for p in perms[1:])


def test_label_skew_dominant_labels(digits):
    idx, groups = partition_indices(digits.y, "label-skew", 8, 4, 50, seed=0, pool=digits,
                                    dominant_fraction=0.8)
    owned = np.array_split(np.arange(10), 4)
    for i, part in enumerate(idx.values()):
        labels = digits.y[part]
        assert np.isin(labels, owned[groups[i]]).sum() == 40


def test_dirichlet_groups_share_distribution(digits):
    idx, groups = partition_indices(digits.y, "dirichlet", 8, 2, 100, seed=0, pool=digits,
                                    alpha=0.1)
    hist = np.stack([np.bincount(digits.y[v], minlength=10) for v in idx.values()]) / 100
    same = np.abs(hist[0] - hist[2]).sum()
    other = np.abs(hist[0] - hist[1]).sum()
    assert same < other
    _, none = partition_indices(digits.y, "dirichlet", 8, 2, 100, pool=digits, per_client=True)
    assert none is None


def test_quantity_skew_sizes(digits):
    idx, groups = partition_indices(digits.y, "quantity-skew", 8, 4, 100, pool=digits)
    assert [len(v) for v in idx.values()] == [100, 50, 25, 12] * 2


def test_feature_skew_images_dilate_and_erode(digits):
    fed = make_scenario(digits, "feature-skew", n_clients=3, n_groups=3,
                        samples_per_client=60, seed=0)
    idx, _ = partition_indices(digits.y, "feature-skew", 3, 3, 60, seed=0, pool=digits)
    orig = [digits.X[idx[c]].mean() for c in fed.client_ids]
    new = [np.concatenate([a, b]).mean() for a, b in zip(fed.x_train, fed.x_test)]
    assert new[0] == pytest.approx(orig[0], rel=1e-6)
    assert new[1] > orig[1] * 1.2  # dilation thickens strokes
    assert new[2] < orig[2] * 0.8  # erosion thins them
    assert fed.provenance["group_transforms"] == ["unchanged", "dilate 2x2", "erode 2x2"]


def test_feature_skew_tabular_shift(heart):
    fed = make_scenario(heart, "feature-skew", n_clients=4, n_groups=2,
                        samples_per_client=60, strength=2.0)
    shift0 = np.abs(np.concatenate(fed.x_train[0::2]).mean(axis=0)).mean()
    shift1 = np.abs(np.concatenate(fed.x_train[1::2]).mean(axis=0)).mean()
    assert shift1 > 1.0 > shift0


def test_natural_with_true_groups(heart):
    fed = make_scenario(heart, "natural", true_groups="Cleveland=0, Hungary=1, "
                        "Switzerland=1, VA Long Beach=0")
    assert fed.true_groups.tolist() == [0, 1, 1, 0]
    assert make_scenario(heart, "natural").true_groups is None
    with pytest.raises(ConfigError, match="no group for client"):
        make_scenario(heart, "natural", true_groups="Cleveland=0")


def test_parameter_validation(digits):
    with pytest.raises(ConfigError, match="unknown scenario 'spin'"):
        make_scenario(digits, "spin")
    with pytest.raises(ConfigError, match="unknown parameter 'beta'"):
        make_scenario(digits, "dirichlet", beta=1)
    with pytest.raises(ConfigError, match="outside"):
        make_scenario(digits, "dirichlet", alpha=0)
    with pytest.raises(ConfigError, match="n_groups must be between 1 and n_clients"):
        make_scenario(digits, "rotation", n_clients=3, n_groups=4)
    with pytest.raises(ConfigError, match="test_fraction"):
        make_scenario(digits, "iid", n_clients=2, n_groups=1, samples_per_client=10,
                      test_fraction=1.0)
    with pytest.raises(ConfigError, match="has no natural clients"):
        make_scenario(digits, "natural")
    fed = make_scenario(digits, "dirichlet", n_clients=4, n_groups=2, samples_per_client=20,
                        alpha="2.5")
    assert fed.provenance["params"]["alpha"] == 2.5


def test_schema_is_ui_ready():
    for sc in SCENARIOS.values():
        for key, spec in sc.params.items():
            assert isinstance(spec, Param) and spec.help, (sc.name, key)
            assert sc.validate({})[key] == spec.default
