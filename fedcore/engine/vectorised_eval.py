"""Evaluation half of :class:`~fedcore.engine.vectorised.VectorisedEngine`.

Scores many models on many clients in one compiled call: loss and the task's primary
metric (accuracy, or RMSE for a regression task; see :mod:`fedcore.regression_metrics`),
and raw outputs for regression metrics and explanations. A regression dataset stores
standardised targets (``dataset.target_scale``): the loss stays on that scale, the RMSE is
reported in the target's own units (RMSE of the standardised targets x their std).
A mixin: it uses the engine's compiled evaluation programs (``_eval``), its stacked data
(``_tensors``, ``_split``), weight checks and memory budget.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .batching import evaluation_steps, segment_sums


class EngineEvaluation:
    """Evaluation methods shared by the vectorised engine (see the module docstring)."""

    def evaluate_matrix(self, models: np.ndarray, clients=None,
                        split: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """Loss and primary metric (accuracy, or RMSE) of each of M models on each client.

        Returns
        -------
        loss, acc : ndarray (M, n_selected) float64
            ``n_selected`` = all clients when ``clients`` is None; nan for clients without
            samples in ``split``.
        """
        data = self._split(split)
        clients = (np.arange(self.dataset.n_clients) if clients is None
                   else np.asarray(clients, dtype=np.int64).reshape(-1))
        models = self._check_weights(models, None)
        sizes = data.sizes[clients]
        rows = np.concatenate([np.arange(data.offsets[c], data.offsets[c + 1])
                               for c in clients]) if clients.size else np.zeros(0, np.int64)
        n_models = len(models)
        ce_all = np.zeros((n_models, rows.size), dtype=np.float64)
        hit_all = np.zeros((n_models, rows.size), dtype=np.float64)
        chunk = max(1, self._memory_budget() // (n_models * self._floats_per_sample + 1))
        w = tf.constant(models)
        x_all, y_all = self._tensors[split]
        _, shared = self._eval.for_loss(self.loss)
        for begin in range(0, rows.size, chunk):
            sel = tf.constant(rows[begin:begin + chunk], dtype=tf.int32)
            ce, hit = shared(tf.gather(x_all, sel), tf.gather(y_all, sel), w)
            ce_all[:, begin:begin + len(sel)] = ce.numpy()
            hit_all[:, begin:begin + len(sel)] = hit.numpy()
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = segment_sums(ce_all, bounds) / sizes
            acc = segment_sums(hit_all, bounds) / sizes
        return loss, self._primary(acc)

    def evaluate_own(self, weights: np.ndarray, clients,
                     split: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """Loss and primary metric (C,) of each client with its own weights (C, P)."""
        data = self._split(split)
        clients = np.asarray(clients, dtype=np.int64).reshape(-1)
        weights = self._check_weights(weights, len(clients))
        loss = np.full(len(clients), np.nan)
        acc = np.full(len(clients), np.nan)
        if data.y.size == 0:
            return loss, acc
        x_all, y_all = self._tensors[split]
        own, _ = self._eval.for_loss(self.loss)
        per_client_row = self._floats_per_sample
        for part in self._client_chunks(len(clients), self.n_params * 2 + 256 * per_client_row):
            chunk = max(1, self._memory_budget() // (len(clients[part]) * per_client_row + 1))
            rows, mask = evaluation_steps(data, clients[part], chunk)
            l_, a = own(x_all, y_all, tf.constant(weights[part]), tf.constant(rows),
                                   tf.constant(mask))
            loss[part], acc[part] = l_.numpy(), a.numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            sizes = data.sizes[clients]
            return loss / sizes, self._primary(acc / sizes)

    def predict(self, model: np.ndarray, clients, split: str = "test") -> np.ndarray:
        """Outputs (logits, or regression predictions) of ONE model on clients' rows.

        Regression predictions are on the stored (standardised) target scale;
        ``dataset.raw_targets`` converts them.

        Returns
        -------
        ndarray (n_rows, n_outputs) float32
            The rows of ``clients`` (dataset indices) in that order, each client's rows in
            dataset order.
        """
        data = self._split(split)
        flat = self._check_weights(model, 1)
        clients = np.asarray(clients, dtype=np.int64).reshape(-1)
        rows = np.concatenate([np.arange(data.offsets[c], data.offsets[c + 1])
                               for c in clients]) if clients.size else np.zeros(0, np.int64)
        out = np.zeros((rows.size, self.n_outputs), dtype=np.float32)
        chunk = max(1, self._memory_budget() // (self._floats_per_sample + 1))
        x_all, _ = self._tensors[split]
        for begin in range(0, rows.size, chunk):
            sel = tf.constant(rows[begin:begin + chunk], dtype=tf.int32)
            out[begin:begin + len(sel)] = self._eval.outputs(tf.gather(x_all, sel),
                                                             tf.constant(flat))[0].numpy()
        return out

    def _primary(self, mean_score: np.ndarray) -> np.ndarray:
        """Per-client mean hit rate (accuracy) or mean squared error -> RMSE in raw units."""
        if self.task != "regression":
            return mean_score
        return np.sqrt(mean_score) * getattr(self.dataset, "target_std", 1.0)

