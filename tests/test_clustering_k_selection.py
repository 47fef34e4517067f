"""The shared K estimator: IID -> 1, separated groups -> their number, seeded, cheap."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import silhouette_score

from fedcore.clustering.k_selection import (
    SilhouetteK,
    estimate_n_clusters,
    mean_silhouette,
    span_coordinates,
)


def groups(n_groups, per_group, dim, sep, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, dim))
    centres *= sep / np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(n_groups), per_group)
    return centres[truth] + rng.normal(size=(len(truth), dim)), truth


@pytest.mark.parametrize("shape", [(100, 2), (100, 50), (20, 3000)])
def test_iid_clients_give_one_cluster_in_low_and_high_dimension(shape):
    X = np.random.default_rng(1).normal(size=shape)
    est = SilhouetteK(max_clusters=10, random_state=0).fit(X)
    assert est.n_clusters_ == 1
    assert (est.labels_ == 0).all()
    # The silhouette alone would not say so in 2-D: a blob cut in two scores > 0.25.
    if shape[1] == 2:
        assert max(est.scores_.values()) > 0.25


@pytest.mark.parametrize("n_groups,per_group,dim", [(2, 25, 20), (4, 10, 200), (4, 5, 3000)])
def test_separated_groups_give_their_number(n_groups, per_group, dim):
    X, truth = groups(n_groups, per_group, dim, sep=3.0 * np.sqrt(dim) ** 0.5 * 3)
    est = estimate_n_clusters(X, max_clusters=10, seed=0)
    assert est.n_clusters_ == n_groups
    pairs = set(zip(est.labels_.tolist(), truth.tolist()))
    assert len(pairs) == n_groups


def test_estimate_is_deterministic_and_respects_max_clusters():
    X, _ = groups(4, 10, 50, sep=30.0)
    a = estimate_n_clusters(X, max_clusters=10, seed=3)
    b = estimate_n_clusters(X, max_clusters=10, seed=3)
    assert a.n_clusters_ == b.n_clusters_ and a.null_threshold_ == b.null_threshold_
    assert estimate_n_clusters(X, max_clusters=3, seed=0).n_clusters_ <= 3
    assert estimate_n_clusters(X, max_clusters=2, seed=0).n_clusters_ <= 2


def test_degenerate_inputs_give_one_cluster():
    assert SilhouetteK().fit(np.ones((6, 4))).n_clusters_ == 1
    assert SilhouetteK().fit(np.zeros((2, 4))).n_clusters_ == 1
    bad = np.ones((6, 4))
    bad[0, 0] = np.nan
    assert SilhouetteK().fit(bad).n_clusters_ == 1


def test_silhouette_and_span_coordinates_match_their_definitions():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 500))
    Y = span_coordinates(X)
    np.testing.assert_allclose(pdist(Y), pdist(X), rtol=1e-8)
    labels = rng.integers(0, 4, 30)
    labels[0] = 7  # a singleton scores 0, as in scikit-learn
    D = squareform(pdist(X))
    assert mean_silhouette(D, labels) == pytest.approx(
        silhouette_score(D, labels, metric="precomputed"))
