"""Compiled programs shared by every engine whose model has the same architecture.

A :class:`~fedcore.engine.vectorised.VectorisedEngine` is built per run (per grid cell); its
training and evaluation ``tf.function`` s take the data, the weights and the step plan as
ARGUMENTS with dynamic client, step and batch dimensions, so nothing in them depends on one
run. Tracing them costs seconds (measured 3-4 s per grid cell on the 2-core machine, more than a
20-client cell's whole training), so they are built once per architecture
``(model spec, input shape, n_classes)`` and process, and reused by every later engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .evaluator import EvalProgram
from .stacked_forward import StackedForward
from .trainer import TrainProgram


@dataclass(frozen=True)
class Programs:
    """The compiled programs of one architecture."""

    train: TrainProgram
    eval: EvalProgram


_CACHE: dict[tuple, Programs] = {}


def architecture_key(model_spec, input_shape, n_classes: int) -> tuple:
    """What the compiled programs depend on (NOT the seed, data or client count)."""
    return (model_spec.kind, tuple(model_spec.hidden), tuple(int(s) for s in input_shape),
            int(n_classes))


def programs_for(key: tuple, model, layout, n_features: int) -> Programs:
    """The cached programs of ``key``, built from ``model`` the first time."""
    if key not in _CACHE:
        forward = StackedForward(model)
        _CACHE[key] = Programs(train=TrainProgram(forward, layout, n_features),
                               eval=EvalProgram(forward, layout, n_features))
    return _CACHE[key]


def clear_program_cache() -> None:
    """Forget every compiled program (the next engine traces again, as each run did before)."""
    _CACHE.clear()


def activation_floats(model, n_features: int) -> int:
    """Floats one sample occupies across all layer outputs (+ im2col patches)."""
    total = n_features
    for layer in model.layers:
        total += int(math.prod(layer.output.shape[1:]))
        if type(layer).__name__ == "Conv2D":
            kh, kw = layer.kernel_size
            total += int(math.prod(layer.output.shape[1:3])) * kh * kw * \
                int(layer.kernel.shape[2])
    return total
