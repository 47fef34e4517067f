"""k-means in the span of the clients' rows: the same clustering as on the full width."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans

from fedcore.clustering import canonical_labels
from fedcore.clustering.linalg import span_coordinates
from fedcore.strategies.oneshot import cluster_rows


def test_span_coordinates_keep_every_distance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3000)).astype(np.float32)
    Z = span_coordinates(X)
    assert Z.shape == (12, 12)
    np.testing.assert_allclose(pdist(Z), pdist(X.astype(np.float64)), rtol=1e-10)
    # Distances to a mean of rows (a k-means centre) are kept as well.
    members = [0, 3, 7]
    far = np.linalg.norm(X.astype(np.float64) - X[members].astype(np.float64).mean(0), axis=1)
    np.testing.assert_allclose(np.linalg.norm(Z - Z[members].mean(0), axis=1), far, rtol=1e-10)


@pytest.mark.parametrize("seed", range(20))
def test_oneshot_kmeans_labels_equal_kmeans_on_the_full_width(seed):
    rng = np.random.default_rng(seed)
    n, d, k = int(rng.integers(8, 30)), int(rng.integers(300, 4000)), int(rng.integers(2, 6))
    # Spread from well separated to barely separated groups, so restarts disagree sometimes.
    centres = rng.normal(0, rng.uniform(0.02, 1.0), (k, d))
    X = (centres[rng.integers(0, k, n)] + rng.normal(0, 0.3, (n, d))).astype(np.float32)
    full = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X.astype(np.float64))
    labels, _ = cluster_rows(X, "kmeans", k, 0.5, "ward", seed)
    np.testing.assert_array_equal(labels, canonical_labels(full.labels_))


def test_narrow_rows_are_clustered_as_they_are():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4))
    labels, _ = cluster_rows(X, "kmeans", 3, 0.5, "ward", 1)
    ref = KMeans(n_clusters=3, n_init=10, random_state=1).fit(X)
    np.testing.assert_array_equal(labels, canonical_labels(ref.labels_))


def test_wide_rows_reach_kmeans_as_span_coordinates(monkeypatch):
    import fedcore.strategies.oneshot as oneshot
    widths = []
    real_fit = KMeans.fit

    def spy(self, X, *args, **kwargs):
        widths.append(np.asarray(X).shape[1])
        return real_fit(self, X, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", spy)
    X = np.random.default_rng(4).normal(size=(10, 5000)).astype(np.float32)
    oneshot.cluster_rows(X, "kmeans", 3, 0.5, "ward", 0)
    assert widths == [10]
