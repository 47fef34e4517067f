"""Per-sample losses of the compiled programs, written as Keras 3 computes them.

* ``cross_entropy``: sparse softmax cross-entropy from logits (``SparseCategoricalCrossentropy(
  from_logits=True)``);
* ``mse``: ``(prediction - y)^2`` (``MeanSquaredError`` on one output);
* ``huber``: ``0.5 e^2`` where ``|e| <= delta``, else ``delta |e| - 0.5 delta^2``
  (Huber 1964, "Robust estimation of a location parameter"; ``keras.losses.Huber``).

The regression losses take the model's single output column as the prediction. Each is
averaged over a client's real samples by the caller, as Keras averages over a batch.
"""

from __future__ import annotations

import tensorflow as tf

from ..config import Loss


def y_dtype(loss: Loss):
    """TensorFlow dtype of the targets a program built for ``loss`` consumes."""
    return tf.float32 if loss.is_regression else tf.int32


def per_sample_loss(loss: Loss, y, outputs):
    """Loss of each sample: ``outputs`` (..., B, n_outputs), ``y`` (..., B) -> (..., B)."""
    if not loss.is_regression:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=outputs)
    error = outputs[..., 0] - y
    if loss.kind == "mse":
        return tf.square(error)
    delta = tf.constant(loss.delta, tf.float32)
    abs_error = tf.abs(error)
    return tf.where(abs_error <= delta, 0.5 * tf.square(error),
                    delta * abs_error - 0.5 * tf.square(delta))


def per_sample_score(loss: Loss, y, outputs):
    """The per-sample term of the task's primary metric: hit (0/1) or squared error."""
    if not loss.is_regression:
        return tf.cast(tf.equal(tf.argmax(outputs, axis=-1, output_type=tf.int32), y),
                       tf.float32)
    return tf.square(outputs[..., 0] - y)
