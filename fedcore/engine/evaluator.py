"""Compiled evaluation programs: many models on many clients' data, batched.

Two shapes of question are asked during a simulation:

* ``own``: every client with ITS OWN weights (local models, personalised accuracy) -- a
  stacked forward pass over padded, masked per-client chunks (like a training step
  without the gradient);
* ``shared``: M models (cluster models, IFCA-style loss matrices) on the SAME rows -- one
  forward pass of all M models over a chunk of the concatenated data; the caller
  segment-averages the per-sample results per client.

The loss is the training loss (cross-entropy from logits, MSE or Huber:
:mod:`fedcore.engine.losses`); the second per-sample value is the term of the task's primary
metric, the argmax hit (accuracy) or the squared error (RMSE after the caller's per-client
mean and square root). Both are summed or returned per sample; callers average per client.
A third program returns the raw outputs (regression predictions, logits) of one model.
"""

from __future__ import annotations

import tensorflow as tf

from ..config import Loss
from .losses import per_sample_loss, per_sample_score, y_dtype
from .trainer import split_flat


class EvalProgram:
    """Builds and caches the evaluation ``tf.function`` s of a :class:`StackedForward`.

    Parameters
    ----------
    forward : StackedForward
    layout : list of (name, shape, start, stop)
    n_features : int
    """

    def __init__(self, forward, layout, n_features):
        self.forward, self.layout, self.n_features = forward, layout, n_features
        self._programs = {}
        self.own, self.shared = self.for_loss(Loss())
        n_params = layout[-1][3]

        # autograph=False on every program: see fedcore.engine.trainer (explicit loops only).
        @tf.function(input_signature=[tf.TensorSpec([None, n_features], tf.float32),
                                      tf.TensorSpec([None, n_params], tf.float32)],
                     autograph=False)
        def outputs(x, flat):
            return forward(split_flat(flat, layout), x, shared=True)

        self.outputs = outputs

    def for_loss(self, loss: Loss):
        """``(own, shared)`` programs reporting ``loss`` (built on first use)."""
        if loss not in self._programs:
            self._programs[loss] = self._build(loss)
        return self._programs[loss]

    def _build(self, loss: Loss):
        forward, layout, n_features = self.forward, self.layout, self.n_features
        n_params = layout[-1][3]

        def _scores(weights, x, y, shared):
            outputs = forward(weights, x, shared=shared)
            if shared:
                y = tf.broadcast_to(y[None, :], tf.shape(outputs)[:2])
            return per_sample_loss(loss, y, outputs), per_sample_score(loss, y, outputs)

        @tf.function(input_signature=[
            tf.TensorSpec([None, n_features], tf.float32),
            tf.TensorSpec([None], y_dtype(loss)),
            tf.TensorSpec([None, n_params], tf.float32),
            tf.TensorSpec([None, None, None], tf.int32),
            tf.TensorSpec([None, None, None], tf.float32)], autograph=False)
        def own(x_all, y_all, flat, rows, mask):
            weights = split_flat(flat, layout)
            zeros = tf.zeros([tf.shape(flat)[0]], tf.float32)

            def step(s, loss_sum, hit_sum):
                sample_mask = mask[s]
                x = tf.gather(x_all, rows[s]) * sample_mask[..., None]
                ce, hit = _scores(weights, x, tf.gather(y_all, rows[s]), shared=False)
                # where, not multiply: a diverged model's nan must not leak into padding sums.
                ce = tf.where(sample_mask > 0, ce, 0.0)
                return (s + 1, loss_sum + tf.reduce_sum(ce, axis=1),
                        hit_sum + tf.reduce_sum(hit * sample_mask, axis=1))

            _, loss_sum, hit_sum = tf.while_loop(
                lambda s, *_: s < tf.shape(rows)[0], step, (tf.constant(0), zeros, zeros),
                parallel_iterations=1)
            return loss_sum, hit_sum

        @tf.function(input_signature=[
            tf.TensorSpec([None, n_features], tf.float32),
            tf.TensorSpec([None], y_dtype(loss)),
            tf.TensorSpec([None, n_params], tf.float32)], autograph=False)
        def shared(x, y, flat):
            return _scores(split_flat(flat, layout), x, y, shared=True)

        return own, shared
