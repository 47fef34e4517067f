"""FedGroup: static client grouping by decomposed cosine similarity of pre-training updates.

Duan, Liu, Chen, Liu, Tan, Li, Gong (2021). "FedGroup: Efficient Federated Learning via
Decomposed Similarity-Based Clustering". IEEE ISPA/BDCloud/SocialCom/SustainCom 2021,
pp. 228-237 (arXiv:2010.06870); client migration from the follow-up FlexCFL: Duan et al.
(2022), "Flexible Clustered Federated Learning for Client-Level Data Distribution Shift",
IEEE TPDS 33(11) (arXiv:2108.09749). Reference code: github.com/morningD/FlexCFL.

Round 1 is the cold start: every client trains once from the initial model. A random subset of
``min(pretrain_scale * K, N)`` clients is clustered: the truncated SVD of their update matrix
gives K principal update directions, each client is described by the cosine similarities of its
update with those directions (the EDC representation) and K-means (K groups) clusters these
rows. A group's model is the plain mean of its members' pre-trained models and its "direction"
the mean of their updates. The remaining clients (newcomers) join the group whose direction is
most cosine-similar to their own pre-training update. Afterwards each group runs FedAvg and its
direction is refreshed with the members' mean update of every round.

With ``migration="on"`` (FlexCFL's client migration, simplified: no temperature), a
participating client whose update is more cosine-similar to another group's direction (as of
the previous round) than to its own group's, by more than ``migration_margin``, moves to that
group after the round (its update still counts for the group it trained in).

``warmup_rounds = N`` (default 0, the paper's cold start from the initial model) runs N full
FedAvg rounds first; the cold start is then round N+1, from the global model. With
``estimate_k=True`` (named variant) K is estimated from the cold-start updates of the
clustered subset by :func:`fedcore.clustering.k_selection.estimate_n_clusters` (recorded as
``estimated_k``); the subset is then ``pretrain_scale * max_clusters`` clients.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.cluster import KMeans

from ..clustering.geometry import cosine_similarity_matrix, weighted_mean
from ..clustering.k_selection import K_ESTIMATION_PARAMS, estimate_n_clusters
from ..params import Param
from .base import (
    FitPlan,
    ServerState,
    Strategy,
    sample_clients,
    weighted_average_by_key,
    with_assignments,
)


def edc_representation(updates: np.ndarray, n_directions: int) -> np.ndarray:
    """Cosine similarity of every update (row) with the top right singular directions.

    ``updates`` is (n_clients, n_params); the directions are the leading left singular vectors
    of ``updates.T`` (FlexCFL: ``TruncatedSVD(K).fit_transform(dW.T)``, whose columns are
    ``U_k * s_k`` and therefore have the same directions). Returns (n_clients, n_directions).
    """
    u = np.asarray(updates, dtype=np.float64)
    # The thin SVD of the small (n, n) Gram side is exact and cheap even for large models.
    _, s, vt = np.linalg.svd(u, full_matrices=False)
    k = min(n_directions, len(s))
    directions = vt[:k]  # (k, n_params), unit rows
    return cosine_similarity_matrix(u, directions)


@dataclass(frozen=True)
class FedGroupState:
    """FedGroup's private memory: each group's update direction (None before the cold start)."""

    directions: dict[int, np.ndarray] | None = None


class FedGroup(Strategy):
    """Duan et al.'s FedGroup (EDC + K-means cold start), optional FlexCFL migration."""

    name = "fedgroup"
    color = "#882255"
    paper = "Duan et al., FedGroup, IEEE ISPA 2021; FlexCFL, IEEE TPDS 2022"
    param_schema = {
        "n_clusters": Param(int, 4, 1, 50, help="number of groups K"),
        "pretrain_scale": Param(int, 20, 1, 100,
                                help="alpha: pretrain_scale * K random clients are clustered "
                                     "(the rest join by cosine similarity)"),
        "migration": Param(str, "off", choices=("off", "on"),
                           help="FlexCFL: let clients move to a more similar group"),
        "migration_margin": Param(float, 0.1, 0.0, 2.0,
                                  help="cosine-similarity gain needed to migrate"),
        "warmup_rounds": Param(int, 0, 0, 100,
                               help="full FedAvg rounds before the cold start (0 = paper)"),
        **K_ESTIMATION_PARAMS,
    }

    def __init__(self, **params):
        if isinstance(params.get("migration"), bool):
            params["migration"] = "on" if params["migration"] else "off"
        super().__init__(**params)

    def initialize(self, ctx) -> ServerState:
        return replace(super().initialize(ctx), private=FedGroupState())

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        # The cold start pre-trains every client once from the initial model (retried next
        # round if every client diverged).
        cold = state.private.directions is None
        clients = np.arange(ctx.dataset.n_clients) if cold else sample_clients(ctx)
        return FitPlan(clients=clients, start_keys=state.assignments[clients].copy())

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        start = np.stack([state.models[int(k)] for k in plan.start_keys]).astype(np.float64)
        updates = fit_out.weights.astype(np.float64) - start
        ok = np.asarray(fit_out.finite, dtype=bool)
        if state.private.directions is None:
            if server_round <= self.params["warmup_rounds"]:
                return super().aggregate_fit(server_round, state, plan, fit_out, ctx)
            return self._cold_start(state, plan, fit_out, updates, ok, ctx)
        keys = np.asarray(plan.start_keys)
        models = weighted_average_by_key(keys, fit_out.weights, fit_out.num_examples, ok,
                                         previous=state.models)
        diag = {"clients": np.asarray(plan.clients), "migrated": []}
        assignments = state.assignments
        if self.params["migration"] == "on":
            # Compared with last round's directions: this round's would contain the client itself.
            assignments, diag["migrated"] = self._migrate(state, plan, updates, ok)
        directions = dict(state.private.directions)
        for key in np.unique(keys[ok]):
            sel = ok & (keys == key)
            directions[int(key)] = weighted_mean(updates[sel], fit_out.num_examples[sel])
        diag["n_clusters"] = len(models)
        return replace(state, models=models, assignments=assignments, diagnostics=diag,
                       private=FedGroupState(directions=directions))

    def _cold_start(self, state, plan, fit_out, updates, ok, ctx) -> ServerState:
        clients = np.asarray(plan.clients)
        usable = np.flatnonzero(ok)
        if len(usable) == 0:
            return replace(state, diagnostics={"cold_start": False})
        estimate = self.params["estimate_k"]
        k = min(int(self.params["max_clusters" if estimate else "n_clusters"]), len(usable))
        n_sub = min(int(self.params["pretrain_scale"]) * k, len(usable))
        sub = np.sort(ctx.rng.choice(usable, size=n_sub, replace=False))
        estimated = None
        if estimate:
            k = estimated = estimate_n_clusters(updates[sub], k,
                                                int(ctx.rng.integers(2**31 - 1))).n_clusters_
        edc = edc_representation(updates[sub], k)
        seed = int(ctx.rng.integers(2**31 - 1))
        labels = KMeans(n_clusters=k, n_init=10, max_iter=300,
                        random_state=seed).fit(edc).labels_.astype(np.int64)
        _, labels = np.unique(labels, return_inverse=True)  # K-means may leave a label unused

        models, directions = {}, {}
        for g in np.unique(labels):
            rows = sub[labels == g]
            models[int(g)] = fit_out.weights[rows].astype(np.float64).mean(0).astype(np.float32)
            directions[int(g)] = updates[rows].mean(0)
        keys = np.zeros(len(clients), dtype=np.int64)
        keys[sub] = labels
        # Newcomers (and diverged clients, whose update is unusable) join the closest direction.
        rest = np.setdiff1d(np.arange(len(clients)), sub)
        group_ids = np.array(sorted(directions), dtype=np.int64)
        if len(rest):
            sims = cosine_similarity_matrix(np.where(ok[rest, None], updates[rest], 0.0),
                             np.stack([directions[int(g)] for g in group_ids]))
            keys[rest] = group_ids[np.argmax(sims, axis=1)]
        state = with_assignments(state, clients, keys, models=models,
                                 private=FedGroupState(directions=directions))
        return replace(state, diagnostics={
            "cold_start": True, "edc": edc, "clustered_clients": clients[sub],
            "edc_labels": labels, "assignments": state.assignments.copy(),
            "n_clusters": len(models), "estimated_k": estimated})

    def _migrate(self, state, plan, updates, ok) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """Move clients whose update points clearly closer to another group's direction.

        Returns the new assignments (a copy) and the moves ``(client, from, to)``.
        """
        directions = state.private.directions
        group_ids = np.array(sorted(directions), dtype=np.int64)
        usable = np.where(ok[:, None], updates, 0.0)  # diverged rows are NaN (skipped below)
        sims = cosine_similarity_matrix(usable, np.stack([directions[int(g)] for g in group_ids]))
        assignments = state.assignments.copy()
        moved = []
        for row, client in enumerate(np.asarray(plan.clients)):
            if not ok[row]:
                continue
            own = int(plan.start_keys[row])
            best = int(np.argmax(sims[row]))
            gain = sims[row, best] - sims[row, np.searchsorted(group_ids, own)]
            if group_ids[best] != own and gain > self.params["migration_margin"]:
                assignments[client] = group_ids[best]
                moved.append((int(client), own, int(group_ids[best])))
        return assignments, moved
