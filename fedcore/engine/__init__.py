"""Vectorised local training and evaluation of many federated clients at once.

``FitOutput`` and the :class:`~fedcore.engine.protocol.Engine` protocol load without
TensorFlow; ``VectorisedEngine`` imports it on first access.
"""

from .protocol import Engine, FitOutput

__all__ = ["Engine", "FitOutput", "VectorisedEngine"]


def __getattr__(name: str):
    if name == "VectorisedEngine":
        from .vectorised import VectorisedEngine
        return VectorisedEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
