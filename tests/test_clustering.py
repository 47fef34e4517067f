"""Re-clustering from cached representations: correctness, cache reuse, registry contract."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import cdist, pdist
from sklearn.metrics import adjusted_rand_score

from fedcore.clustering import (
    CLUSTERERS,
    LinkageClustering,
    RepresentationCache,
    SpectralDistanceClustering,
    cut_height_for,
    cut_linkage,
    get_cache,
    label_alignment,
    recluster,
    schema_for,
    validate_params,
)
from fedcore.errors import ConfigError, DataError
from fedcore.params import Param
from fedcore.results import Representation


def blobs(n_per=20, dims=5, gap=20.0, seed=0, n_groups=2):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, dims)) * gap
    truth = np.repeat(np.arange(n_groups), n_per)
    X = centres[truth] + rng.normal(size=(truth.size, dims))
    return X.astype(np.float32), truth


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_two_obvious_blobs_are_recovered(name):
    X, truth = blobs()
    params = {"n_clusters": 2} if "n_clusters" in CLUSTERERS[name].params else {}
    if name == "dbscan":
        params = {"eps": 1.0, "min_samples": 3}  # <= 50 columns are z-scored
    labels = recluster(Representation("weights", X=X), name, params)
    assert adjusted_rand_score(truth, labels) == 1.0
    assert labels.dtype == np.int64 and labels.shape == truth.shape


def test_threshold_and_k_cuts_match_scipy():
    X, _ = blobs(n_per=15, n_groups=3, gap=6.0, seed=3)
    rep = Representation("weights", X=X)
    X64 = X.astype(np.float64)
    Z_ref = linkage(pdist((X64 - X64.mean(0)) / X64.std(0)), method="average")  # <= 50: z-scored
    Z = get_cache(rep).linkage("average", "euclidean")
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-5)
    for k in (2, 3, 5):
        ours = recluster(rep, "agglomerative", {"linkage": "average", "n_clusters": k})
        ref = fcluster(Z_ref, k, criterion="maxclust")
        assert adjusted_rand_score(ref, ours) == 1.0
        assert len(np.unique(ours)) == k
    for t in (np.median(Z_ref[:, 2]), Z_ref[-1, 2] * 0.5):
        ours = recluster(rep, "agglomerative", {"cut": "distance_threshold",
                                                "distance_threshold": float(t)})
        ref = fcluster(Z_ref, t, criterion="distance")
        assert adjusted_rand_score(ref, ours) == 1.0


def test_cut_height_for_gives_k_clusters():
    X, _ = blobs(n_per=10, n_groups=3)
    Z = linkage(pdist(X), "ward")
    for k in (1, 2, 3, 4, 30):
        h = cut_height_for(Z, k)
        assert len(np.unique(fcluster(Z, h, criterion="distance"))) == k


def test_estimator_fit_equals_cached_path():
    X, _ = blobs(n_per=12, n_groups=3, gap=8.0, seed=5)
    est = LinkageClustering(linkage="ward", n_clusters=3).fit(X)
    cached = recluster(Representation("weights", X=X), "agglomerative",
                       {"linkage": "ward", "n_clusters": 3})
    np.testing.assert_array_equal(est.labels_, cached)
    spec = SpectralDistanceClustering(n_clusters=3, random_state=1).fit(X)
    cached = recluster(Representation("weights", X=X), "spectral", {"n_clusters": 3, "seed": 1})
    assert adjusted_rand_score(spec.labels_, cached) == 1.0


def test_cache_distances_are_exact_for_both_metrics():
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(30, 300)) + 5.0).astype(np.float32)  # big common offset
    cache = RepresentationCache(Representation("weights", X=X))
    assert cache.scale == "none"
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(cache.distance("euclidean"), cdist(X64, X64), atol=1e-3)
    np.testing.assert_allclose(cache.distance("cosine"), cdist(X64, X64, "cosine"), atol=1e-6)


def test_cosine_and_euclidean_differ_where_expected():
    # Two directions 30 degrees apart, each at two scales (1 and 10): cosine groups by
    # direction, euclidean by scale.
    rng = np.random.default_rng(0)
    angle = np.deg2rad(30)
    directions = np.array([[1.0, 0.0], [np.cos(angle), np.sin(angle)]])
    scales = np.repeat([1.0, 10.0], 10)
    direction_of = np.tile(np.repeat([0, 1], 5), 2)
    X = directions[direction_of] * scales[:, None] + rng.normal(scale=0.01, size=(20, 2))
    X = np.hstack([X, np.zeros((20, 60))])  # > 50 dims: raw (unscaled) vectors
    rep = Representation("updates", X=X)
    by_cos = recluster(rep, "agglomerative", {"metric": "cosine", "n_clusters": 2})
    by_euc = recluster(rep, "agglomerative", {"metric": "euclidean", "n_clusters": 2})
    assert adjusted_rand_score(direction_of, by_cos) == 1.0
    assert adjusted_rand_score(scales, by_euc) == 1.0
    assert adjusted_rand_score(by_cos, by_euc) < 0.1


def test_precomputed_distance_path():
    X, truth = blobs(n_per=10, n_groups=3, gap=10.0, seed=2)
    d = cdist(X, X)
    rep = Representation("principal_angles", distance=d)
    cache = get_cache(rep)
    assert cache.metrics == ("precomputed",)
    for name in CLUSTERERS:
        params = {"n_clusters": 3} if "n_clusters" in CLUSTERERS[name].params else {}
        if name == "dbscan":
            params = {"eps": 4.0, "min_samples": 2}
        if name == "hdbscan":
            params = {"min_cluster_size": 4}
        labels = recluster(rep, name, params)  # metric 'euclidean' default -> precomputed
        assert adjusted_rand_score(truth, labels) == 1.0, name
    with pytest.raises(ConfigError, match="ward"):
        recluster(rep, "agglomerative", {"linkage": "ward"})
    assert "ward" not in schema_for("agglomerative", rep)["linkage"].choices


def test_cache_avoids_recomputation():
    X, _ = blobs(n_per=15)
    rep = Representation("weights", X=X)
    cache = get_cache(rep)
    assert get_cache(rep) is cache
    for k in range(2, 7):
        recluster(rep, "agglomerative", {"n_clusters": k})
        recluster(rep, "agglomerative", {"cut": "distance_threshold", "distance_threshold": k})
        recluster(rep, "spectral", {"n_clusters": k})
        recluster(rep, "dbscan", {"eps": float(k)})
    assert cache.compute_counts["gram"] == 1
    assert cache.compute_counts["distance"] == 1
    assert cache.compute_counts["linkage"] == 1
    assert cache.compute_counts["spectral"] == 1
    other = Representation("weights", X=X.copy())
    assert get_cache(other) is not cache


def test_cache_is_released_with_its_representation():
    import gc
    import weakref

    X, _ = blobs(n_per=5)
    rep = Representation("weights", X=X)
    cache_ref = weakref.ref(get_cache(rep))
    del rep
    gc.collect()
    assert cache_ref() is None


def test_label_alignment_keeps_colours_under_permutation():
    ref = np.array([0, 0, 1, 1, 2, 2, -1])
    permuted = np.array([2, 2, 0, 0, 1, 1, -1])
    np.testing.assert_array_equal(label_alignment(permuted, ref), ref)
    # a split: the larger part keeps the colour, the new cluster gets a fresh id
    split = np.array([5, 5, 7, 8, 9, 9, 9])
    out = label_alignment(split, ref)
    assert out[0] == 0 and out[4] == 2 and set(out[2:4]) == {1, 3}
    assert label_alignment(np.array([1, 0]), None).tolist() == [0, 1]


def test_noise_and_small_inputs():
    X, _ = blobs(n_per=5)
    labels = recluster(Representation("weights", X=X), "dbscan", {"eps": 1e-6})
    assert (labels == -1).all()
    one = recluster(Representation("weights", X=X[:1]), "kmeans", {})
    assert one.tolist() == [0]
    with pytest.raises(DataError):
        RepresentationCache(Representation("weights"))
    with pytest.raises(DataError, match="NaN"):
        RepresentationCache(Representation("weights", X=np.array([[np.nan, 1.0]])))


def test_validate_params_errors():
    with pytest.raises(ConfigError, match="unknown clusterer"):
        validate_params("nope", {})
    with pytest.raises(ConfigError, match="unknown parameter"):
        validate_params("kmeans", {"k": 3})
    with pytest.raises(ConfigError, match="not in"):
        validate_params("agglomerative", {"linkage": "median"})
    with pytest.raises(ConfigError, match="below"):
        validate_params("kmeans", {"n_clusters": 0})
    assert validate_params("kmeans", {"n_clusters": "4"})["n_clusters"] == 4


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_registry_contract(name):
    entry = CLUSTERERS[name]
    assert entry.name == name and entry.supports_precomputed in (True, False)
    X, _ = blobs(n_per=12, n_groups=3, seed=4)
    rep = Representation("weights", X=X, distance=cdist(X, X))
    for key, spec in entry.params.items():
        assert isinstance(spec, Param), key
        assert spec.kind in ("int", "float", "choice", "bool")
        assert spec.help
        if spec.choices is not None:
            assert spec.default in spec.choices
    labels = recluster(rep, name, entry.defaults())
    assert labels.shape == (36,) and labels.min() >= -1
    est = entry.factory(**entry.defaults())
    assert hasattr(est, "fit") and est.fit(X) is est and est.labels_.shape == (36,)
    adapted = schema_for(name, rep)
    assert set(adapted) == set(entry.params)
    adapted_defaults = {k: v.default for k, v in adapted.items()}
    assert recluster(rep, name, adapted_defaults).shape == (36,)
    if entry.supports_precomputed:
        dist_only = Representation("principal_angles", distance=cdist(X, X))
        defaults = {k: v.default for k, v in schema_for(name, dist_only).items()}
        assert recluster(dist_only, name, defaults).shape == (36,)


def test_schema_for_adapts_ranges_to_data():
    X, _ = blobs(n_per=12, n_groups=3, seed=4)
    rep = Representation("weights", X=X)
    schema = schema_for("agglomerative", rep)
    top = get_cache(rep).linkage("average", "euclidean")[-1, 2]
    assert schema["distance_threshold"].max == pytest.approx(top * 1.05)
    labels = recluster(rep, "agglomerative", {"cut": "distance_threshold",
                                              "distance_threshold": schema["distance_threshold"]
                                              .default})
    assert len(np.unique(labels)) >= 2
    assert schema_for("kmeans", Representation("w", X=X[:2]))["n_clusters"].max == 2
    cut = cut_linkage(get_cache(rep).linkage("average", "euclidean"), n_clusters=3)
    assert len(np.unique(cut)) == 3
