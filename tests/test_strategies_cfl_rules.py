"""CFL's and PACFL's paper rules: the min-max bipartition (brute force), max_clusters, the
paper's defaults, and PACFL's class-matched proximity on a label swap."""

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, tiny_dataset
from scipy.linalg import subspace_angles
from test_strategies_cfl_family import same_partition

from fedcore.clustering.geometry import client_basis, cosine_similarity_matrix
from fedcore.errors import ConfigError
from fedcore.strategies.cfl import CFL, bipartition
from fedcore.strategies.pacfl import PACFL


def test_cfl_defaults_are_the_papers():
    p = CFL().params
    assert (p["criterion"], p["eps1"], p["eps2"], p["bipartition"]) == (
        "absolute", 0.4, 1.6, "optimal")


def brute_force_min_max_cross(similarity):
    """The smallest achievable max cross-similarity over all 2^(n-1)-1 bipartitions."""
    n = len(similarity)
    best = np.inf
    for mask in range(1, 2 ** (n - 1)):
        part = np.array([(mask >> i) & 1 for i in range(n)], dtype=bool)
        best = min(best, similarity[np.ix_(~part, part)].max())
    return best


def test_cfl_optimal_bipartition_equals_the_brute_force_min_max_optimum():
    rng = np.random.default_rng(0)
    worse = 0
    for case in range(60):
        n = int(rng.integers(3, 10))
        centres = rng.normal(size=(2, 8))
        updates = centres[rng.integers(0, 2, n)] + rng.normal(0, 1.0, (n, 8))
        s = cosine_similarity_matrix(updates)
        opt = brute_force_min_max_cross(s)
        part = bipartition(s)
        assert 0 < part.sum() < n and not part[0]
        assert s[np.ix_(~part, part)].max() == pytest.approx(opt, abs=1e-12), case
        ref = bipartition(s, "reference-code")
        worse += s[np.ix_(~ref, ref)].max() > opt + 1e-12
    assert worse > 0  # the notebook's complete linkage is not the paper's optimum


def test_cfl_reference_code_variant_uses_complete_linkage_and_gate_uses_the_used_split():
    # Chain a-b-c-d with a weak a..d link: single linkage cuts the weakest chain edge,
    # complete linkage groups {a,b} vs {c,d}; the gate must see the cut that was made.
    s = np.array([[1.0, 0.9, 0.1, 0.55], [0.9, 1.0, 0.5, 0.0], [0.1, 0.5, 1.0, 0.9],
                  [0.55, 0.0, 0.9, 1.0]])
    for method in ("optimal", "reference-code"):
        part = bipartition(s, method)
        cross = s[np.ix_(~part, part)].max()
        assert cross >= brute_force_min_max_cross(s) - 1e-12
    assert s[np.ix_(~bipartition(s), bipartition(s))].max() == brute_force_min_max_cross(s)


def test_cfl_max_clusters_counts_splits_made_in_the_same_round():
    # Targets c+a, c-a, -c+b, -c-b (2 clients each): round 1 splits {c+-a} from {-c+-b};
    # in round 2 BOTH halves want to split at once. max_clusters=3 must allow only one.
    c, a, b = np.eye(6)[0] * 3, np.eye(6)[1] * 2, np.eye(6)[2] * 2
    targets = np.repeat(np.stack([c + a, c - a, -c + b, -c - b]), 2, axis=0)
    engine = FakeEngine(targets=targets, step=1.0)
    for cap, expected in ((3, 3), (0, 4), (2, 2)):
        strategy = CFL(warmup_rounds=0, max_clusters=cap)
        state, hist = run_rounds(strategy, make_context(engine), 4)
        assert len(state.models) == expected, cap
        assert max(h["record"].metrics["n_clusters"] for h in hist) == expected
    assert [h["diagnostics"]["n_splits"] for h in hist][:2] == [1, 0]


def test_cfl_tied_similarities_still_bipartition():
    # Two orthogonal pairs of identical updates: every cross distance ties at 1.
    u = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    part = bipartition(cosine_similarity_matrix(u))
    assert 0 < part.sum() < 4 and not part[1]


def label_swap_clients(n_per_group=4, n=60, seed=0):
    """Class 0 lives in span(e0..e2) and class 1 in span(e3..e5) in group 0; swapped in group 1."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for g in (0, 1):
        for _ in range(n_per_group):
            y = np.arange(n) % 2
            x = 0.05 * rng.normal(size=(n, 8))
            block = (y ^ g) * 3  # which 3 coordinates carry the signal
            for i in range(n):
                x[i, block[i]:block[i] + 3] += rng.normal(size=3)
            xs.append(x.astype(np.float32))
            ys.append(y)
    return xs, ys, np.repeat([0, 1], n_per_group)


def test_pacfl_class_matched_separates_a_label_swap_that_all_pairs_cannot():
    xs, ys, groups = label_swap_clients()
    ds = tiny_dataset(len(xs), xs, ys, true_groups=groups)
    engine = FakeEngine(targets=np.zeros((len(xs), 2)))
    default = PACFL().initialize(make_context(engine, dataset=ds))
    assert PACFL().params["pairing"] == "all-pairs"  # the reference code's proximity
    assert len(np.unique(default.assignments)) == 1  # identical inputs: no separation
    matched = PACFL(pairing="class-matched").initialize(make_context(engine, dataset=ds))
    assert same_partition(matched.assignments, groups)
    angles = matched.private.principal_angles
    assert angles[np.ix_(groups == 0, groups == 1)].min() > 80
    assert angles[np.ix_(groups == 0, groups == 0)].max() < 15
    with pytest.raises(ConfigError, match="per_class"):
        PACFL(pairing="class-matched", per_class="no").initialize(
            make_context(engine, dataset=ds))


def test_class_matched_proximity_equals_per_class_scipy_angles():
    from fedcore.clustering.geometry import class_matched_proximity
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(40, 7)) for _ in range(3)]
    ys = [np.arange(40) % 3, np.arange(40) % 3, np.arange(40) % 2]  # client 2 lacks class 2
    got = class_matched_proximity(xs, ys, n_basis=2)
    for i in range(3):
        for j in range(3):
            if i == j:
                continue
            shared = sorted(set(ys[i]) & set(ys[j]))
            ref = [np.degrees(subspace_angles(client_basis(xs[i][ys[i] == c], None, 2)[0],
                                              client_basis(xs[j][ys[j] == c], None, 2)[0]).min())
                   for c in shared]
            assert got[i, j] == pytest.approx(np.mean(ref), abs=1e-6)
