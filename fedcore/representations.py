"""Client representations recorded during a run, for re-clustering without retraining.

Every CFL method clusters clients by *something*: their local weights (k-means baselines),
their updates (CFL, FL+HC, FedGroup), the last layer, their losses under other models
(IFCA-style), summaries of their data, or the principal angles between their data subspaces
(PACFL). The simulation records all of them once so the dashboard can try any clustering on any
of them in well under a second.

Full weight vectors of many clients do not fit comfortably in memory (1,000 clients of a
784-200-10 MLP are 0.6 GB per representation), so above :data:`EXACT_MAX_FLOATS` they are
stored as a count-sketch (Charikar, Chen, Farach-Colton, 2002): a seeded signed hashing of the
coordinates into :data:`SKETCH_DIMS` buckets, which preserves inner products (hence Euclidean and
cosine geometry) in expectation. The representation's description says when this happened.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import data_cache
from .clustering.geometry import principal_angle_matrix
from .results import Representation

EXACT_MAX_FLOATS = 20_000_000
SKETCH_DIMS = 4096
N_ANCHORS = 16


def count_sketch_matrix(n_params: int, dims: int, seed: int) -> sp.csr_matrix:
    """A (n_params x dims) sparse matrix with one random +-1 per row."""
    rng = np.random.default_rng([seed, 4242])
    cols = rng.integers(0, dims, size=n_params)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n_params)
    return sp.csr_matrix((signs, (np.arange(n_params), cols)), shape=(n_params, dims))


class ClientTrace:
    """The latest local weights and update of every client, plus exact anchor-client weights.

    Parameters
    ----------
    n_clients, n_params : int
    last_layer : slice
        Where the output layer sits in the flat weights (always kept exactly).
    seed : int
        Seeds the sketch and the choice of anchor clients.
    max_floats : int, optional
        Skip the weights and updates representations when they exceed this many floats
        (a grid that would not store them does not record them; ``full`` is then False).
    """

    def __init__(self, n_clients: int, n_params: int, last_layer: slice, seed: int = 0,
                 max_floats: int | None = None):
        self.sketch = None
        dims = n_params
        if n_clients * n_params > EXACT_MAX_FLOATS:
            self.sketch = count_sketch_matrix(n_params, SKETCH_DIMS, seed)
            dims = SKETCH_DIMS
        self.last_layer = last_layer
        self.full = max_floats is None or n_clients * dims <= max_floats
        shape = (n_clients, dims if self.full else 0)
        self.weights = np.zeros(shape, dtype=np.float32)
        self.updates = np.zeros(shape, dtype=np.float32)
        n_last = len(range(n_params)[last_layer])
        self.last = np.zeros((n_clients, n_last), dtype=np.float32)
        self.trained = np.zeros(n_clients, dtype=bool)
        rng = np.random.default_rng([seed, 99])
        self.anchors = np.sort(rng.choice(n_clients, size=min(N_ANCHORS, n_clients),
                                          replace=False))
        # Where each anchor's latest local weights are: (round output array, row). Copying
        # 16 x P floats every round cost ~3 ms per cell-round; the arrays are never written
        # after the round, so keeping a reference is enough.
        self._anchor_rows: list = [None] * len(self.anchors)
        self._n_params = n_params

    def _reduce(self, arr: np.ndarray) -> np.ndarray:
        return arr if self.sketch is None else np.asarray(arr @ self.sketch, dtype=np.float32)

    def record(self, clients: np.ndarray, start: np.ndarray, fit_out) -> None:
        """Keep the finite local results of this round's participants."""
        rows = np.flatnonzero(fit_out.finite)
        idx = clients[rows]
        if self.full:
            local = fit_out.weights[rows]
            self.weights[idx] = self._reduce(local)
            self.updates[idx] = self._reduce(local - start[rows])
        # Only the rows and columns kept are copied (a grid cell keeps no full weights).
        self.last[idx] = fit_out.weights[rows, self.last_layer]
        self.trained[idx] = True
        pos = np.searchsorted(self.anchors, idx)
        hit = (pos < len(self.anchors)) & (self.anchors[np.minimum(pos, len(self.anchors) - 1)]
                                           == idx)
        for slot, row in zip(pos[hit].tolist(), rows[hit].tolist()):
            self._anchor_rows[slot] = (fit_out.weights, row)

    @property
    def anchor_weights(self) -> np.ndarray:
        """(n_anchors, P) latest local weights of the anchor clients (zeros if untrained)."""
        out = np.zeros((len(self.anchors), self._n_params), dtype=np.float32)
        for slot, ref in enumerate(self._anchor_rows):
            if ref is not None:
                out[slot] = ref[0][ref[1]]
        return out


def target_summary(dataset) -> np.ndarray:
    """Per client: what its labels look like -- the label distribution of a classification
    task, or the mean and standard deviation of a regression target (standardised by the
    pooled training targets, so no unit dominates the features)."""
    if not getattr(dataset, "is_regression", False):
        counts = dataset.label_counts().to_numpy(dtype=np.float64)
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    pooled = np.concatenate(dataset.y_train).astype(np.float64)
    mu, sd = (pooled.mean(), pooled.std() or 1.0) if pooled.size else (0.0, 1.0)
    return np.array([[(np.mean(y) - mu) / sd, np.std(y) / sd] if len(y) else [0.0, 0.0]
                     for y in dataset.y_train], dtype=np.float64).reshape(-1, 2)


def data_summary(dataset) -> np.ndarray:
    """Label distribution (regression: target mean and spread, :func:`target_summary`) +
    mean of the pooled-standardised features, per client."""
    label_dist = target_summary(dataset)
    pooled = np.concatenate(dataset.x_train).astype(np.float64)
    mu, sd = pooled.mean(axis=0), pooled.std(axis=0)
    sd[sd == 0] = 1.0
    means = np.stack([((x - mu) / sd).mean(axis=0) if len(x) else np.zeros_like(mu)
                      for x in dataset.x_train])
    return np.hstack([label_dist, means]).astype(np.float32)


def collect_representations(dataset, engine, trace: ClientTrace,
                            extra: dict[str, Representation] | None = None,
                            seed: int = 0) -> dict[str, Representation]:
    """All representations of a finished run, keyed by their registry name.

    ``extra`` holds what the strategy adds (:meth:`Strategy.representations`); it wins over
    the generic ones of the same name (PACFL's own principal angles over the default ones).
    """
    note = ("" if trace.sketch is None else
            f" Count-sketch to {SKETCH_DIMS} dims (inner products preserved in expectation).")
    reps = {} if not trace.full else {
        "weights": Representation("weights", X=trace.weights,
                                  description="Each client's latest local model weights." + note),
        "updates": Representation("updates", X=trace.updates,
                                  description="Each client's latest local update "
                                              "(local minus starting weights)." + note),
    }
    reps.update({
        "last_layer": Representation("last_layer", X=trace.last,
                                     description="Output-layer weights and biases of each "
                                                 "client's latest local model."),
        "data_summary": Representation("data_summary",
                                       X=data_cache.cached(dataset, "data_summary",
                                                           data_summary),
                                       description=("Target mean and spread" if getattr(
                                           dataset, "is_regression", False) else
                                           "Label distribution") + " and mean standardised "
                                                   "features of each client's training data."),
    })
    if trace.trained[trace.anchors].all():
        loss, _ = engine.evaluate_matrix(trace.anchor_weights, split="train")
        loss = np.where(np.isfinite(loss), loss, np.nanmax(np.where(np.isfinite(loss), loss, 0)))
        reps["loss_profile"] = Representation(
            "loss_profile", X=loss.T.astype(np.float32),
            description=f"Training loss of each client under the local models of "
                        f"{len(trace.anchors)} anchor clients (cross-loss profile).")
    extra = dict(extra or {})
    if "principal_angles" not in extra:
        angles = data_cache.cached(dataset, "principal_angles", principal_angles_or_none)
        if angles is not None:
            extra["principal_angles"] = principal_angles_representation(angles)
    return {**reps, **extra}


def principal_angles_representation(angles: np.ndarray) -> Representation:
    """The ``principal_angles`` representation: a distance matrix in degrees."""
    return Representation("principal_angles", distance=np.asarray(angles, dtype=np.float64),
                          description="Principal angles (degrees) between the clients' data "
                                      "subspaces (PACFL, Vahidian et al., 2023).")


def principal_angles_or_none(dataset, max_clients: int = 300):
    if dataset.n_clients > max_clients:
        return None
    return principal_angle_matrix(dataset.x_train)
