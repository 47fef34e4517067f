"""Forward pass of a Keras-defined model over STACKED weights (leading client axis).

The Keras model only describes the architecture; this module reads each layer's config
(units, activation, use_bias, filters, kernel_size, strides, padding, pool_size) and
re-implements the layer for weights of shape ``(C, *keras_shape)`` so that C clients run in
one TensorFlow program. Each client's output depends only on its own weight slice, so
``GradientTape`` over the SUM of per-client losses yields every client's own gradient.

Activations travel in one of three layouts:

* ``shared`` ``(B, ...)``: the input before the first weighted layer when all models see
  the same samples (evaluation of M models on common data);
* ``stacked`` ``(C, B, ...)``: one slice per client;
* ``grouped`` ``(B, H, W, C * channels)``: clients folded into the channel axis, so a
  per-client Conv2D is ONE grouped convolution (``groups = C``; measured 4-8x faster on CPU
  than im2col + batched matmul, and bit-identical to per-client convolutions) and
  max-pooling needs no reshaping. Image layers stay grouped until Flatten/Dense.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from ..errors import ConfigError

SHARED, STACKED, GROUPED = "shared", "stacked", "grouped"


def _activation(layer):
    act = getattr(layer, "activation", None)
    return act if act is not None else (lambda t: t)


def _to_stacked(x, mode, sample_shape):
    """Bring a grouped activation back to (C, B, *sample_shape)."""
    if mode != GROUPED:
        return x
    x = tf.reshape(x, tf.concat([tf.shape(x)[:3], [-1, sample_shape[-1]]], 0))
    return tf.transpose(x, [3, 0, 1, 2, 4])


def _to_grouped(x, mode):
    """(C, B, H, W, ch) -> (B, H, W, C * ch); shared and grouped inputs pass through."""
    if mode != STACKED:
        return x
    x = tf.transpose(x, [1, 2, 3, 0, 4])
    return tf.reshape(x, tf.concat([tf.shape(x)[:3], [-1]], 0))


class _Reshape:
    n_weights = 0

    def __init__(self, in_shape, out_shape):
        self.in_shape = [int(s) for s in in_shape]
        self.out_shape = [int(s) for s in out_shape]

    def __call__(self, x, weights, mode):
        x = _to_stacked(x, mode, self.in_shape)
        lead = tf.shape(x)[:1] if mode == SHARED else tf.shape(x)[:2]
        return tf.reshape(x, tf.concat([lead, self.out_shape], 0)), \
            (SHARED if mode == SHARED else STACKED)


class _Dense:
    def __init__(self, layer):
        cfg = layer.get_config()
        self.use_bias = bool(cfg["use_bias"])
        self.n_weights = 2 if self.use_bias else 1
        self.act = _activation(layer)
        self.units = int(cfg["units"])
        self.in_dim = int(layer.kernel.shape[0])

    def __call__(self, x, weights, mode):
        kernel = weights[0]  # (C, i, o)
        if mode == SHARED:
            # One wide matmul: (B, i) @ (i, C*o), then split the models apart.
            wide = tf.reshape(tf.transpose(kernel, [1, 0, 2]), [self.in_dim, -1])
            y = tf.matmul(x, wide)
            y = tf.transpose(tf.reshape(y, [tf.shape(x)[0], -1, self.units]), [1, 0, 2])
        else:
            y = tf.matmul(x, kernel)
        if self.use_bias:
            y = y + weights[1][:, None, :]
        return self.act(y), STACKED


class _Conv2D:
    def __init__(self, layer):
        cfg = layer.get_config()
        if cfg.get("data_format", "channels_last") != "channels_last" or \
                tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1) or cfg.get("groups", 1) != 1:
            raise ConfigError(f"layer {layer.name}: only channels_last, undilated, ungrouped "
                              "Conv2D is supported by the vectorised engine")
        self.strides = [1, *(int(s) for s in cfg["strides"]), 1]
        self.padding = cfg["padding"].upper()
        self.use_bias = bool(cfg["use_bias"])
        self.n_weights = 2 if self.use_bias else 1
        self.act = _activation(layer)
        self.kernel_shape = [int(s) for s in layer.kernel.shape]  # kh, kw, cin, cout

    def __call__(self, x, weights, mode):
        kh, kw, cin, cout = self.kernel_shape
        # (C, kh, kw, cin, cout) -> (kh, kw, cin, C*cout): output channel c*cout + o is
        # client c's filter o; with a grouped input tf infers groups = C.
        wide = tf.reshape(tf.transpose(weights[0], [1, 2, 3, 0, 4]), [kh, kw, cin, -1])
        y = tf.nn.conv2d(_to_grouped(x, mode), wide, self.strides, self.padding)
        if self.use_bias:
            lead = tf.shape(y)[:3]
            y = tf.reshape(y, tf.concat([lead, [-1, cout]], 0)) + weights[1]
            y = tf.reshape(y, tf.concat([lead, [-1]], 0))
        return self.act(y), GROUPED


class _MaxPool2D:
    n_weights = 0

    def __init__(self, layer, in_shape, out_shape):
        cfg = layer.get_config()
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise ConfigError(f"layer {layer.name}: only channels_last pooling is supported")
        self.pool = [int(p) for p in cfg["pool_size"]]
        self.strides = [int(s) for s in (cfg["strides"] or cfg["pool_size"])]
        self.padding = cfg["padding"].upper()
        self.in_shape = [int(s) for s in in_shape]
        self.out_shape = [int(s) for s in out_shape]

    def __call__(self, x, weights, mode):
        if mode != STACKED:  # pooling is per channel: grouped/shared layouts pool as they are
            return tf.nn.max_pool2d(x, self.pool, self.strides, self.padding), mode
        lead = tf.shape(x)[:2]
        y = tf.nn.max_pool2d(tf.reshape(x, [-1, *self.in_shape]), self.pool, self.strides,
                             self.padding)
        return tf.reshape(y, tf.concat([lead, self.out_shape], 0)), mode


class _Activation:
    n_weights = 0

    def __init__(self, layer):
        self.act = _activation(layer)

    def __call__(self, x, weights, mode):
        return self.act(x), mode


def _per_sample_shape(tensor_shape):
    return tuple(int(s) for s in tensor_shape[1:])


class StackedForward:
    """Callable ``(weights, x, shared) -> logits`` for a sequential Keras model.

    Parameters
    ----------
    model : keras.Sequential
        Built model whose layers are Reshape, Flatten, Dense, Conv2D, MaxPooling2D or
        Activation.

    Notes
    -----
    ``weights`` is the list of stacked tensors in ``model.trainable_weights`` order, each of
    shape ``(C, *var.shape)``. ``x`` is ``(C, B, d)``, or ``(B, d)`` with ``shared=True``
    (every model sees the same samples). The result is ``(C, B, n_classes)``.
    """

    def __init__(self, model: keras.Model):
        self.ops = []
        in_shape = _per_sample_shape(model.inputs[0].shape)
        expected = [id(v) for v in model.trainable_weights]
        seen = []
        for layer in model.layers:
            out_shape = _per_sample_shape(layer.output.shape)
            kind = type(layer).__name__
            if kind in ("Reshape", "Flatten"):
                op = _Reshape(in_shape, out_shape)
            elif kind == "Dense":
                if len(in_shape) != 1:
                    raise ConfigError(f"layer {layer.name}: Dense needs a flat input")
                op = _Dense(layer)
            elif kind == "Conv2D":
                op = _Conv2D(layer)
            elif kind == "MaxPooling2D":
                op = _MaxPool2D(layer, in_shape, out_shape)
            elif kind == "Activation":
                op = _Activation(layer)
            elif kind == "InputLayer":
                continue
            else:
                raise ConfigError(f"layer {layer.name} ({kind}) is not supported by the "
                                  "vectorised engine")
            seen += [id(v) for v in layer.trainable_weights]
            if len(layer.trainable_weights) != op.n_weights:
                raise ConfigError(f"layer {layer.name}: unexpected trainable weights")
            self.ops.append(op)
            in_shape = out_shape
        if seen != expected:
            raise ConfigError("model weights are not in layer order; cannot vectorise it")
        self.n_features = int(math.prod(_per_sample_shape(model.inputs[0].shape)))

    def __call__(self, weights, x, shared=False):
        pos, mode = 0, SHARED if shared else STACKED
        for op in self.ops:
            x, mode = op(x, weights[pos:pos + op.n_weights], mode)
            pos += op.n_weights
        if mode != STACKED:
            raise ConfigError("the model must end with a Dense layer")
        return x
