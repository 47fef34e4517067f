"""CFL: clustered federated learning by recursive bi-partitioning of the client population.

Sattler, Müller, Samek (2021). "Clustered Federated Learning: Model-Agnostic Distributed
Multitask Optimization Under Privacy Constraints". IEEE Transactions on Neural Networks and
Learning Systems 32(8), 3710-3722 (arXiv:1910.01991).

Every client trains from its cluster's model and sends its update ``dW_i = w_i - w_start``.
Inside a cluster, once FedAvg has reached a stationary point of the *joint* objective (the
norm of the averaged update is small) while some clients are still far from their own
stationary point (a large individual update), the clients' objectives disagree: the cluster is
split in two by the cosine similarity of the updates, and each new cluster's model is the old
model plus the average update of its own members.

Bipartition
-----------
The paper's bipartition minimises the MAXIMUM cross-cluster cosine similarity
``alpha_cross_max = max_{i in c1, j in c2} alpha_ij``. Cutting the single-linkage tree of
``1 - alpha`` into two clusters gives that optimum exactly: single linkage's top merge is the
heaviest edge of a minimum spanning tree, and removing it maximises the smallest distance
across the cut (maximum-spacing clustering), i.e. minimises the largest cross similarity. This
is ``bipartition="optimal"`` (default; checked against brute force in the tests).
``bipartition="reference-code"`` is the named variant of the authors' notebook
(github.com/felisat/clustered-federated-learning): complete linkage, which on noisy updates
often leaves a larger ``alpha_cross_max`` than the optimum.

Split acceptance
----------------
A split is accepted only if the largest cosine similarity across the two halves of the
partition actually used, ``alpha_cross_max``, is below ``max_cross_similarity`` (the paper's
separation ``gamma_max = sqrt((1 - alpha_cross_max) / 2)``; the reference code skips the check,
i.e. ``max_cross_similarity=1``), and both halves have ``min_cluster_size`` clients. The
default 0.5 (``gamma_max > 0.5``: the halves' updates are more than 60 degrees apart) was set
in an earlier version from mnist_5k observations (genuine splits 0.05-0.45, a spurious IID
split 0.55); it is a tunable hyper-parameter for the grid's tuning seeds. Splits
made in one round count towards ``max_clusters`` at once, so it is never exceeded.

Threshold modes
---------------
``criterion="absolute"`` (default) is the paper's rule ``mean_norm < eps1 and max_norm > eps2``
with the paper's ``eps1 = 0.4``, ``eps2 = 1.6``. Update norms scale with the learning rate, the
number of local steps and the model size, so these values only fit the paper's own setting.

``criterion="relative"`` (named variant) measures both norms in units of the largest client
update norm seen in the cluster's first round (a cluster born from a split keeps its parent's
unit): split when ``mean_norm < relative_eps1 * scale and max_norm > relative_eps2 * scale``.
Its defaults were NOT chosen on the README benchmark (mnist_5k rotation / label-swap /
label-skew / feature-skew) but on sklearn's ``digits`` (8x8 images, a different data set):
``benchmarks/cfl_relative_thresholds.py`` runs 20 clients (80 samples, 4 groups, lr 0.05,
seed 0, splitting disabled) with logistic regression and MLP(200). The relative mean norm
settled at 0.46-0.56 on IID clients (rounds 15-25) but fell to 0.30-0.37 under rotation,
so ``relative_eps1 = 0.4`` lies between the two plateaus. The largest relative client norm
stayed at 0.75-0.91 in every case (one client's 80-sample epoch is noisy), so it does not
separate IID from shifted clients on its own; ``relative_eps2 = 0.6`` only requires that some
client still moves clearly, leaving the decision to ``relative_eps1`` and the cross-similarity
gate. That the values equal the ones formerly tuned on mnist_5k is a coincidence of these
measurements, not a choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from ..clustering.estimators import LinkageClustering
from ..clustering.geometry import weighted_mean
from ..clustering.similarity import update_cosine_geometry
from ..params import Param
from .base import ServerState, Strategy, with_assignments


def bipartition(similarity: np.ndarray, method: str = "optimal") -> np.ndarray:
    """Split clients in two by their cosine ``similarity`` matrix.

    ``"optimal"``: single linkage on ``1 - similarity`` cut in two, the bipartition of smallest
    maximum cross-similarity (the paper's). ``"reference-code"``: complete linkage, as the
    authors' notebook. Returns a boolean mask (True = second part); the first client always
    lands in the first part, so the result is deterministic for a given matrix.
    """
    n = len(similarity)
    if n < 2:
        return np.zeros(n, dtype=bool)
    dist = np.clip(1.0 - similarity, 0.0, None)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    if method == "optimal":
        return max_spacing_bipartition(dist)
    tree = LinkageClustering(linkage="complete", metric="precomputed", n_clusters=2)
    return tree.fit(dist).labels_ != 0


def max_spacing_bipartition(dist: np.ndarray) -> np.ndarray:
    """The two-cluster single-linkage cut: drop the heaviest edge of a minimum spanning tree.

    Done on the tree itself rather than by cutting a dendrogram, because tied merge heights
    (e.g. orthogonal updates) can make a height cut return one cluster. Returns a mask with
    the first client in the first part.
    """
    # +1 keeps zero distances (identical updates) as edges; an MST is shift-invariant.
    mst = minimum_spanning_tree(dist + 1.0 - np.eye(len(dist))).tocoo()
    heaviest = int(np.argmax(mst.data))
    keep = np.ones(len(mst.data), dtype=bool)
    keep[heaviest] = False
    forest = coo_matrix((mst.data[keep], (mst.row[keep], mst.col[keep])), shape=dist.shape)
    _, labels = connected_components(forest, directed=False)
    return labels != labels[0]


@dataclass(frozen=True)
class CFLState:
    """CFL's private memory: each cluster's reference update norm (relative criterion)."""

    norm_scale: dict[int, float] = field(default_factory=dict)


class CFL(Strategy):
    """Sattler et al.'s CFL: split a cluster when its clients' updates stop agreeing."""

    name = "cfl"
    color = "#D55E00"
    paper = "Sattler, Müller, Samek, IEEE TNNLS 2021"
    param_schema = {
        "criterion": Param(str, "absolute", choices=("absolute", "relative"),
                           help="absolute: the paper's norms (eps1, eps2); relative (variant): "
                                "norms in units of the largest update norm of the cluster's "
                                "first round (relative_eps1, relative_eps2)"),
        "eps1": Param(float, 0.4, 0.0, None,
                      help="absolute mode: split only if the norm of the cluster's mean "
                           "update is below this (paper: 0.4)"),
        "eps2": Param(float, 1.6, 0.0, None,
                      help="absolute mode: split only if the largest client update norm is "
                           "above this (paper: 1.6)"),
        "relative_eps1": Param(float, 0.4, 0.0, None,
                               help="relative mode: eps1 in units of the first-round largest "
                                    "update norm (chosen on digits, not on the benchmark)"),
        "relative_eps2": Param(float, 0.6, 0.0, None,
                               help="relative mode: eps2 in units of the first-round largest "
                                    "update norm (chosen on digits, not on the benchmark)"),
        "bipartition": Param(str, "optimal", choices=("optimal", "reference-code"),
                             help="optimal: minimum max cross-similarity (paper, single "
                                  "linkage); reference-code: complete linkage (notebook)"),
        "warmup_rounds": Param(int, 5, 0, 500,
                               help="rounds of plain (clustered) FedAvg before any split"),
        "min_cluster_size": Param(int, 2, 1, 100,
                                  help="both halves of a split need at least this many clients"),
        "max_clusters": Param(int, 0, 0, 100,
                              help="stop splitting at this many clusters (0 = no limit)"),
        "max_cross_similarity": Param(float, 0.5, -1.0, 1.0,
                                      help="accept a split only if the largest cosine "
                                           "similarity across the two halves is below this "
                                           "(1 = always, as the reference code)"),
    }

    def initialize(self, ctx) -> ServerState:
        return replace(super().initialize(ctx), private=CFLState())

    # configure_fit: the base hook already starts every client from its cluster's model.

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        clients = np.asarray(plan.clients)
        keys = np.asarray(plan.start_keys)
        ok = np.asarray(fit_out.finite, dtype=bool)
        # float32 differences of float32 weights are exact wherever the two are within a
        # factor of 2 (Sterbenz), i.e. almost everywhere for a local update; one float32
        # Gram matrix then gives similarities and norms (fedcore.clustering.similarity).
        updates = np.empty_like(fit_out.weights, dtype=np.float32)
        for key in np.unique(keys):
            rows = keys == key
            updates[rows] = fit_out.weights[rows] - state.models[int(key)]
        n_ex = np.asarray(fit_out.num_examples, dtype=np.float64)
        similarity, norms = update_cosine_geometry(updates, ok)

        diag = {"clients": clients.copy(), "similarity": similarity, "mean_norm": {},
                "max_norm": {}, "norm_scale": {}, "max_cross_similarity": {},
                "split": [], "n_splits": 0}
        new_keys = keys.copy()
        next_key = max(state.models) + 1
        scales = dict(state.private.norm_scale)
        for key in np.unique(keys):
            key = int(key)
            rows = np.flatnonzero((keys == key) & ok)
            if len(rows) == 0:
                continue
            mean_norm = float(np.linalg.norm(weighted_mean(updates[rows], n_ex[rows])))
            max_norm = float(norms[rows].max())
            scale = self._scale(scales, key, max_norm)
            diag["mean_norm"][key], diag["max_norm"][key] = mean_norm, max_norm
            diag["norm_scale"][key] = scale
            n_models = len(state.models) + len(diag["split"])  # this round's splits count
            if not self._wants_split(server_round, n_models, len(rows), mean_norm, max_norm,
                                     scale):
                continue
            part = bipartition(similarity[np.ix_(rows, rows)], self.params["bipartition"])
            if part.all() or not part.any():  # tied linkage heights: no bipartition found
                continue
            cross = float(similarity[np.ix_(rows[~part], rows[part])].max())
            diag["max_cross_similarity"][key] = cross
            small = min(part.sum(), (~part).sum()) < self.params["min_cluster_size"]
            if small or cross >= self.params["max_cross_similarity"]:
                continue
            new_keys[rows[part]] = next_key
            scales[next_key] = scale
            diag["split"].append((key, next_key))
            next_key += 1

        models = self._aggregate(state.models, keys, new_keys, updates, n_ex, ok)
        diag["n_splits"] = len(diag["split"])
        diag["n_clusters"] = len(models)
        return with_assignments(state, clients, new_keys, models=models, diagnostics=diag,
                                private=CFLState(norm_scale=scales))

    def _scale(self, scales: dict, key, max_norm) -> float:
        """The cluster's reference norm (first round's largest update; 1 in absolute mode).

        Records a new cluster's reference in ``scales`` (the caller's fresh copy).
        """
        if self.params["criterion"] == "absolute":
            return 1.0
        if key not in scales and max_norm > 0 and np.isfinite(max_norm):
            scales[key] = max_norm
        return float(scales.get(key, 1.0))

    def _wants_split(self, server_round, n_models, size, mean_norm, max_norm, scale) -> bool:
        p = self.params
        if server_round <= p["warmup_rounds"] or size < max(3, 2 * p["min_cluster_size"]):
            return False
        if p["max_clusters"] and n_models >= p["max_clusters"]:
            return False
        prefix = "relative_" if p["criterion"] == "relative" else ""
        return mean_norm < p[prefix + "eps1"] * scale and max_norm > p[prefix + "eps2"] * scale

    @staticmethod
    def _aggregate(models, old_keys, new_keys, updates, n_ex, ok) -> dict:
        """Each (new) cluster: the model its members started from plus their mean update.

        A freshly split cluster starts from its parent's model, so both halves continue from
        where the parent was, each moved by its own members' average update.
        """
        out = dict(models)
        for key in np.unique(new_keys):
            members = new_keys == key
            parent = int(old_keys[members][0])
            sel = members & ok
            base = models[parent].astype(np.float64)
            if sel.any():
                base = base + weighted_mean(updates[sel], n_ex[sel])
            out[int(key)] = base.astype(np.float32)
        return out
