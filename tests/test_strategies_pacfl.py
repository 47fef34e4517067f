"""PACFL (Vahidian et al., AAAI 2023): principal angles between the clients' data subspaces,
against scipy references, and the strategy on a numpy fake engine."""

from __future__ import annotations

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, tiny_dataset
from scipy.linalg import subspace_angles
from strategy_support import subspace_clients

from fedcore.clustering.geometry import client_basis, principal_angle_matrix, proximity_matrix
from fedcore.errors import ConfigError
from fedcore.strategies.pacfl import PACFL, cluster_by_angles


def subspace_set_angle(blocks_a, blocks_b, measure="smallest") -> float:
    """Reference proximity (radians) of two sets of subspaces, pair by pair with scipy."""
    if not blocks_a or not blocks_b:
        return float(np.pi / 2)
    angles = [[subspace_angles(a, b) for b in blocks_b] for a in blocks_a]
    if measure == "smallest":
        return float(min(t.min() for row in angles for t in row))
    mean = np.array([[t.mean() for t in row] for row in angles])
    return float((mean.min(1).mean() + mean.min(0).mean()) / 2)


# ---------------------------------------------------------------------------------- PACFL
def test_pacfl_angles_equal_scipy_subspace_angles():
    rng = np.random.default_rng(0)
    for k1, k2 in ((1, 1), (3, 2), (4, 4)):
        a = np.linalg.qr(rng.normal(size=(12, k1)))[0]
        b = np.linalg.qr(rng.normal(size=(12, k2)))[0]
        for measure, reduce in (("smallest", np.min), ("mean", np.mean)):
            fast = proximity_matrix([[a], [b]], measure)[0, 1]
            assert fast == pytest.approx(np.degrees(reduce(subspace_angles(a, b))), abs=1e-5)
    x = rng.normal(size=(20, 8))
    y = np.repeat([0, 1], 10)
    blocks = client_basis(x, y, 2)
    assert [b.shape for b in blocks] == [(8, 2), (8, 2)]
    for b, c in zip(blocks, (0, 1)):
        np.testing.assert_allclose(b.T @ b, np.eye(2), atol=1e-10)
        top = np.linalg.svd(x[y == c].T, full_matrices=False)[0][:, :2]
        assert np.degrees(subspace_angles(b, top)).max() < 1e-5
    # set proximity: smallest angle over class pairs; Chamfer mean of mean angles
    e = np.eye(4)
    a_set, b_set = [e[:, [0]], e[:, [1]]], [e[:, [1]], (e[:, [2]] + e[:, [3]]) / np.sqrt(2)]
    assert subspace_set_angle(a_set, b_set, "smallest") == pytest.approx(0.0, abs=1e-7)
    assert subspace_set_angle(a_set, b_set, "mean") == pytest.approx((np.pi / 4 + np.pi / 4) / 2)


def test_pacfl_vectorised_proximity_equals_pairwise_reference():
    rng = np.random.default_rng(1)
    bases = []
    for n_blocks, widths in ((2, (3, 1)), (1, (2,)), (3, (3, 3, 2)), (0, ())):
        bases.append([np.linalg.qr(rng.normal(size=(9, w)))[0] for w in widths[:n_blocks]])
    for measure in ("smallest", "mean"):
        fast = proximity_matrix(bases, measure)
        for i in range(4):
            for j in range(4):
                ref = 0.0 if i == j else np.degrees(subspace_set_angle(bases[i], bases[j], measure))
                assert fast[i, j] == pytest.approx(ref, abs=1e-6), (measure, i, j)
    assert fast[0, 3] == 90.0  # a client without any data direction is orthogonal to all


def test_pacfl_gram_route_matches_svd():
    rng = np.random.default_rng(2)
    for shape in ((12, 5), (5, 12)):
        x = rng.normal(size=shape)  # (samples, features): both Gram sides are exercised
        u = client_basis(x, None, 3)[0]
        ref = np.linalg.svd(x.T, full_matrices=False)[0][:, :3]
        assert np.degrees(subspace_angles(u, ref)).max() < 1e-6
    assert client_basis(np.zeros((4, 6)), None, 3) == []


def test_pacfl_separates_clients_living_in_different_subspaces():
    xs, ys, groups = subspace_clients()
    bases = [client_basis(x, None, 3) for x in xs]
    assert all(len(b) == 1 for b in bases)
    angles = proximity_matrix(bases, "smallest")
    assert angles[0, 1] < 1.0 and angles[0, 4] > 89.0
    np.testing.assert_allclose(angles, angles.T)
    np.testing.assert_array_equal(cluster_by_angles(angles, 45.0, 0, "average"), groups)
    np.testing.assert_array_equal(cluster_by_angles(angles, 0.0, 2, "average"), groups)
    assert len(set(cluster_by_angles(angles, 95.0, 0, "average"))) == 1


def test_pacfl_principal_angle_matrix_from_raw_features():
    xs, ys, groups = subspace_clients()
    whole = principal_angle_matrix(xs)  # what fedcore.representations uses
    np.testing.assert_allclose(whole, proximity_matrix([client_basis(x, None, 3) for x in xs]))
    per_class = principal_angle_matrix(xs, ys, n_basis=2, measure="mean")
    same = groups[:, None] == groups[None, :]
    assert per_class[same].max() < 45 < 85 < per_class[~same].min()
    empty = principal_angle_matrix([xs[0], np.zeros((0, 10), np.float32)])
    assert empty[0, 1] == 90.0


def test_pacfl_strategy_state_diagnostics_and_fedavg_inside_clusters():
    xs, ys, groups = subspace_clients()
    offsets = np.arange(12, dtype=np.float64).reshape(6, 2)
    engine = FakeEngine(offsets=offsets, num_examples=[1, 2, 3, 1, 1, 2])
    ctx = make_context(engine, dataset=tiny_dataset(6, xs, ys))
    strategy = PACFL(threshold=30.0)
    state, hist = run_rounds(strategy, ctx, 2)
    np.testing.assert_array_equal(state.assignments, groups)
    a = strategy.representations(state, ctx)["principal_angles"].distance
    assert a.shape == (6, 6) and np.all(np.diag(a) == 0) and a[0, 3] > 80
    assert "principal_angles" in hist[0]["diagnostics"]
    assert "principal_angles" not in hist[1]["diagnostics"]
    # two rounds of weighted mean offsets from the zero initial model
    n = engine.sizes.astype(float)
    expected0 = 2 * (n[:3] @ offsets[:3]) / n[:3].sum()
    np.testing.assert_allclose(state.models[0], expected0, atol=1e-5)


def test_pacfl_is_deterministic_and_validates_choices():
    xs, ys, _ = subspace_clients(seed=3)
    ctx = make_context(FakeEngine(offsets=np.zeros((6, 2))), dataset=tiny_dataset(6, xs, ys))
    a = PACFL(n_clusters=2, measure="mean").initialize(ctx).assignments
    b = PACFL(n_clusters=2, measure="mean").initialize(ctx).assignments
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError):
        PACFL(linkage="ward")
