"""Vectorised local training and evaluation of many federated clients at once."""

from .vectorised import FitOutput, VectorisedEngine

__all__ = ["FitOutput", "VectorisedEngine"]
