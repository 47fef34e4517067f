"""Compiled evaluation programs: many models on many clients' data, batched.

Two shapes of question are asked during a simulation:

* ``own``: every client with ITS OWN weights (local models, personalised accuracy) -- a
  stacked forward pass over padded, masked per-client chunks (like a training step
  without the gradient);
* ``shared``: M models (cluster models, IFCA-style loss matrices) on the SAME rows -- one
  forward pass of all M models over a chunk of the concatenated data; the caller
  segment-averages the per-sample results per client.

Loss is the sparse categorical cross-entropy from logits, accuracy the argmax hit rate,
both averaged over each client's samples.
"""

from __future__ import annotations

import tensorflow as tf

from .trainer import split_flat


class EvalProgram:
    """Builds the two evaluation ``tf.function`` s for a :class:`StackedForward`."""

    def __init__(self, forward, layout, n_features):
        n_params = layout[-1][3]

        def _scores(weights, x, y, shared):
            logits = forward(weights, x, shared=shared)
            if shared:
                y = tf.broadcast_to(y[None, :], tf.shape(logits)[:2])
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            hit = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), y),
                          tf.float32)
            return ce, hit

        @tf.function(input_signature=[
            tf.TensorSpec([None, n_features], tf.float32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None, n_params], tf.float32),
            tf.TensorSpec([None, None, None], tf.int32),
            tf.TensorSpec([None, None, None], tf.float32)])
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
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None, n_params], tf.float32)])
        def shared(x, y, flat):
            return _scores(split_flat(flat, layout), x, y, shared=True)

        self.own = own
        self.shared = shared
