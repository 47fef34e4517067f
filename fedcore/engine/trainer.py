"""The compiled local-training program: every participating client in one ``tf.function``.

Each step gathers one batch per client from the concatenated training rows, runs the
stacked forward pass, and differentiates the SUM of the per-client mean losses
(cross-entropy, MSE or Huber: :mod:`fedcore.engine.losses`): client
weights are disjoint slices, so each slice receives exactly its own client's gradient.
The update rules replicate Keras 3 ``SGD`` (``w -= lr * g``) and ``Adam`` (defaults
``beta_1=0.9, beta_2=0.999, epsilon=1e-7``, bias correction folded into the step size, as
in Kingma & Ba, ICLR 2015, Sec. 2) operation for operation. FedProx (Li et al., MLSys 2020)
adds ``mu/2 * ||w - w_start||^2`` to each client's loss.

A step on which a client has no real sample (it has fewer batches than the longest
client) leaves its weights, Adam moments and step counter untouched (``tf.where``).
Steps run in a ``tf.while_loop`` so the number of steps, clients and the batch size are
dynamic: one trace per (optimizer, prox on/off, loss) serves every call.
"""

from __future__ import annotations

import tensorflow as tf

from ..config import Loss
from .losses import per_sample_loss, y_dtype

ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-7


def _per_client(flag, like):
    """Reshape a (C,) tensor so it broadcasts against ``like`` of shape (C, ...)."""
    return tf.reshape(flag, tf.concat([tf.shape(flag), tf.ones([tf.rank(like) - 1],
                                                               tf.int32)], 0))


def split_flat(flat, layout):
    """(C, P) -> list of (C, *shape) tensors, ``layout`` as in :func:`param_layout`."""
    parts = tf.split(flat, [stop - start for _, _, start, stop in layout], axis=1)
    return [tf.reshape(p, [-1, *shape]) for p, (_, shape, _, _) in zip(parts, layout)]


class TrainProgram:
    """Builds and caches the training ``tf.function`` for a :class:`StackedForward`.

    Parameters
    ----------
    forward : StackedForward
    layout : list of (name, shape, start, stop)
    n_features : int
    """

    def __init__(self, forward, layout, n_features):
        self.forward = forward
        self.layout = layout
        self.n_params = layout[-1][3]
        self.n_features = n_features
        self._programs = {}

    def __call__(self, optimizer: str, prox: bool, loss: Loss | None = None):
        loss = Loss() if loss is None else loss
        key = (optimizer, bool(prox), loss)
        if key not in self._programs:
            self._programs[key] = self._build(optimizer, bool(prox), loss)
        return self._programs[key]

    def _build(self, optimizer, prox, loss):
        forward, layout = self.forward, self.layout
        signature = [
            tf.TensorSpec([None, self.n_features], tf.float32),  # x_all
            tf.TensorSpec([None], y_dtype(loss)),  # y_all: class indices or targets
            # distinct start models per tensor, (M, *shape): no split/concat of a (C, P) copy
            [tf.TensorSpec([None, *shape], tf.float32) for _, shape, _, _ in layout],
            tf.TensorSpec([None], tf.int32),  # start model of each client (C,)
            tf.TensorSpec([None, None, None], tf.int32),  # rows (S, C, B)
            tf.TensorSpec([None, None, None], tf.float32),  # mask (S, C, B)
            tf.TensorSpec([None, None], tf.float32),  # last_epoch (S, C)
            tf.TensorSpec([], tf.float32),  # lr
            tf.TensorSpec([], tf.float32),  # mu
        ]

        # autograph=False: the loop is an explicit tf.while_loop and every Python branch is
        # on a Python value, so autograph would only rewrite the source -- ~3 s per process.
        @tf.function(input_signature=signature, autograph=False)
        def program(x_all, y_all, start_parts, start_index, rows, mask, last_epoch, lr, mu):
            n_clients = tf.shape(rows)[1]
            # The few distinct start models (one for FedAvg, K for IFCA, one per cell in a
            # lockstep batch) are copied to their clients here, in one pass, instead of being
            # stacked C times into the call's input on the Python side.
            start = [tf.gather(w, start_index) for w in start_parts]
            zeros_c = tf.zeros([n_clients], tf.float32)
            moments = [tf.zeros_like(w) for w in start] if optimizer == "adam" else []

            positions = tf.range(1, tf.shape(rows)[2] + 1)

            def step(s, weights, first, second, t, loss_sum, count_sum, bad):
                # Batch slots after the last real sample of ANY client are padding for all
                # of them (e.g. the 8-row last batch of 200 samples at batch 32): cut them,
                # so the step's matmuls only span the real width. Dropped slots are
                # masked, so only zero terms leave the sums.
                width = tf.maximum(tf.reduce_max(tf.where(mask[s] > 0, positions, 0)), 1)
                step_rows = rows[s][:, :width]
                sample_mask = mask[s][:, :width]
                x = tf.gather(x_all, step_rows) * sample_mask[..., None]
                y = tf.gather(y_all, step_rows)
                count = tf.reduce_sum(sample_mask, axis=1)
                active = count > 0
                with tf.GradientTape() as tape:
                    tape.watch(weights)
                    ce = per_sample_loss(loss, y, forward(weights, x))
                    batch_loss = tf.reduce_sum(ce * sample_mask, axis=1) / tf.maximum(count, 1.0)
                    total = tf.reduce_sum(batch_loss)
                    if prox:
                        # Summed per tensor as the reference loop does: mu/2 * sum ||w - w0||^2.
                        total += tf.reduce_sum([
                            mu / 2.0 * tf.reduce_sum(tf.square(w - w0))
                            for w, w0 in zip(weights, start)])
                grads = tape.gradient(total, weights)
                if optimizer == "adam":
                    t_new = t + tf.cast(active, tf.float32)
                    b1_power = tf.pow(tf.constant(ADAM_BETA_1, tf.float32), t_new)
                    b2_power = tf.pow(tf.constant(ADAM_BETA_2, tf.float32), t_new)
                    alpha = lr * tf.sqrt(1 - b2_power) / (1 - b1_power)
                    new_w, new_m, new_v = [], [], []
                    for w, g, m, v in zip(weights, grads, first, second):
                        on = _per_client(active, w)
                        m2 = m + (g - m) * (1 - ADAM_BETA_1)
                        v2 = v + (tf.square(g) - v) * (1 - ADAM_BETA_2)
                        w2 = w - (m2 * _per_client(alpha, w)) / (tf.sqrt(v2) + ADAM_EPSILON)
                        new_w.append(tf.where(on, w2, w))
                        new_m.append(tf.where(on, m2, m))
                        new_v.append(tf.where(on, v2, v))
                    weights, first, second, t = new_w, new_m, new_v, t_new
                else:
                    # lr * 1 == lr and g * 0 == 0 exactly, so a per-client step size makes a
                    # padded step an exact no-op without an extra masking pass over the weights.
                    # (Seeding the backward pass with -lr would save the multiply pass, ~10% of
                    # a round, but rounds differently from Keras' w - g * lr: measured one client
                    # in 1000 flipping a ReLU and ending 4e-5 away from keras.fit.)
                    step_size = lr * tf.cast(active, tf.float32)
                    weights = [w - g * _per_client(step_size, w) for w, g in zip(weights, grads)]
                in_last = tf.gather(last_epoch, s) * tf.cast(active, tf.float32)
                # Keras' reported epoch loss weights each batch by its size.
                loss_sum += tf.where(in_last > 0, batch_loss * count, 0.0)
                count_sum += in_last * count
                bad = bad | (active & ~tf.math.is_finite(batch_loss))
                return s + 1, weights, first, second, t, loss_sum, count_sum, bad

            loop_vars = (tf.constant(0), start, moments, list(moments), zeros_c, zeros_c,
                         zeros_c, tf.zeros([n_clients], tf.bool))
            out = tf.while_loop(lambda s, *_: s < tf.shape(rows)[0], step, loop_vars,
                                parallel_iterations=1)
            _, weights, _, _, _, loss_sum, count_sum, bad = out
            return weights, loss_sum / count_sum, bad

        return program
