"""2-D embeddings: determinism, memoisation, fallbacks, registry contract."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from fedcore.clustering import get_cache, recluster
from fedcore.embeddings import EMBEDDERS, embed, umap_is_warm, warm_up_umap
from fedcore.errors import ConfigError
from fedcore.params import Param
from fedcore.results import Representation


def data(n=40, dims=8, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % 2
    X = rng.normal(size=(n, dims)) + truth[:, None] * 8.0
    return X, truth


def test_pca_matches_numpy_svd_and_explains_variance():
    X, _ = data(dims=80)  # > 50 dims: raw, not z-scored
    df, info = embed(Representation("weights", X=X), "pca")
    centred = X - X.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    ref = u[:, :2] * s[:2]
    for col, j in (("x", 0), ("y", 1)):
        np.testing.assert_allclose(np.abs(df[col]), np.abs(ref[:, j]), rtol=1e-6, atol=1e-8)
    assert info["explained_variance_ratio"][0] == pytest.approx(s[0] ** 2 / (s ** 2).sum())
    assert list(df.columns) == ["client_index", "x", "y"]


def test_tsne_deterministic_with_seed_and_separates_groups():
    X, truth = data()
    a, info = embed(Representation("w", X=X), "tsne", seed=3, perplexity=10)
    b, _ = embed(Representation("w", X=X), "tsne", seed=3, perplexity=10)
    np.testing.assert_array_equal(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())
    pts = a[["x", "y"]].to_numpy()
    within = max(pdist(pts[truth == 0]).mean(), pdist(pts[truth == 1]).mean())
    assert cdist(pts[truth == 0], pts[truth == 1]).mean() > 2 * within
    assert info["used"] == "tsne"


def test_tsne_perplexity_is_capped_below_n():
    X, _ = data(n=12)
    _, info = embed(Representation("w", X=X), "tsne", perplexity=30)
    assert info["perplexity"] < 12 and "capped" in info["note"]


def test_embedding_memoised_and_independent_of_clustering():
    X, _ = data()
    rep = Representation("w", X=X)
    first, info1 = embed(rep, "mds")
    recluster(rep, "kmeans", {"n_clusters": 2})
    recluster(rep, "kmeans", {"n_clusters": 3})
    second, info2 = embed(rep, "mds")
    assert not info1["cached"] and info2["cached"]
    np.testing.assert_array_equal(first.to_numpy(), second.to_numpy())
    assert len(get_cache(rep).embeddings) == 1
    _, info3 = embed(rep, "mds", seed=1)
    assert not info3["cached"]


def test_mds_on_precomputed_distance_reproduces_planar_points():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(15, 2))
    rep = Representation("principal_angles", distance=cdist(pts, pts))
    df, info = embed(rep, "mds")
    emb = df[["x", "y"]].to_numpy()
    np.testing.assert_allclose(pdist(emb), pdist(pts), atol=1e-8)
    assert info["metric"] == "precomputed"
    pca_df, pca_info = embed(rep, "pca")  # distance only -> classical MDS coordinates
    assert pca_info["used"] == "mds"
    np.testing.assert_allclose(pdist(pca_df[["x", "y"]].to_numpy()), pdist(pts), atol=1e-8)


def test_umap_falls_back_on_tiny_n_and_says_so():
    X, _ = data(n=8)
    df, info = embed(Representation("w", X=X), "umap", n_neighbors=15)
    assert info["used"] == "pca" and "UMAP needs" in info["fallback_reason"]
    assert len(df) == 8
    X2, _ = data(n=14)
    _, info2 = embed(Representation("w", X=X2), "umap", n_neighbors=15)
    assert "fallback_reason" in info2
    one, info3 = embed(Representation("w", X=X[:2]), "tsne")
    assert len(one) == 2 and "fallback_reason" in info3


def test_unknown_method_and_param():
    X, _ = data()
    with pytest.raises(ConfigError, match="unknown embedding"):
        embed(Representation("w", X=X), "isomap")
    with pytest.raises(ConfigError, match="unknown parameter"):
        embed(Representation("w", X=X), "tsne", neighbours=3)


@pytest.mark.parametrize("name", sorted(set(EMBEDDERS) - {"umap"}))
def test_registry_contract_with_defaults(name):
    entry = EMBEDDERS[name]
    for spec in entry.params.values():
        assert isinstance(spec, Param) and spec.help
    X, _ = data(n=30)
    df, info = embed(Representation("w", X=X, distance=cdist(X, X)), name, **entry.defaults())
    assert df.shape == (30, 3) and np.isfinite(df[["x", "y"]].to_numpy()).all()
    assert info["method"] == name and info["seconds"] >= 0


@pytest.mark.slow
def test_umap_once_deterministic_and_warm_up():
    assert warm_up_umap() >= 0.0 and umap_is_warm()
    assert warm_up_umap() == 0.0
    X, truth = data(n=40)
    a, info = embed(Representation("w", X=X), "umap", seed=0, n_neighbors=10)
    b, _ = embed(Representation("w", X=X), "umap", seed=0, n_neighbors=10)
    assert info["used"] == "umap"
    np.testing.assert_allclose(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())
    pts = a[["x", "y"]].to_numpy()
    assert cdist(pts[truth == 0], pts[truth == 1]).min() > 0
