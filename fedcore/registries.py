"""Every registry of named, parameterised things, looked up the same way.

The CLI (``--param``), the grid (every cell before any runs), the forms and the
reproducibility bundle resolve a ``(kind, name)`` pair here and check values with the
entry's :class:`~fedcore.params.Param` schema, so a bad value gives the same one line
everywhere. Registries are imported on first use: listing methods must not load the
partitioners, and this module must stay importable without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigError
from .params import Param, parse, validate

#: kind -> (module, registry attribute, attribute holding an entry's schema)
_REGISTRIES = {
    "method": ("fedcore.strategies", "STRATEGIES", "param_schema"),
    "scenario": ("fedcore.partition", "SCENARIOS", "params"),
    "clusterer": ("fedcore.clustering", "CLUSTERERS", "params"),
    "embedding": ("fedcore.embeddings", "EMBEDDERS", "params"),
    "explainer": ("fedcore.explain", "EXPLAINERS", "params"),
}
KINDS = tuple(_REGISTRIES)

#: A run without a scenario uses the data's own clients.
NATURAL = "natural"

#: How the data is read, accepted next to any scenario's parameters in a run spec (they are
#: keyword arguments of :func:`fedcore.data.resolve_dataset`, e.g. an upload's columns).
DATA_OPTIONS = {
    "client_column": Param(str, "", help="Column of an uploaded table naming the client."),
    "label_column": Param(str, "", help="Column of an uploaded table holding the label."),
    "test_fraction": Param(float, 0.2, 0.0, 1.0, help="Per-client stratified test share."),
    "task": Param(str, "classification", choices=("classification", "regression"),
                  help="How an uploaded table's label column is read: classes, or a "
                  "number to predict (regression)."),
}


def registry(kind: str) -> dict:
    """The registry dict of ``kind`` (``"method"``, ``"scenario"``, ...)."""
    import importlib

    if kind not in _REGISTRIES:
        raise ConfigError(f"unknown registry {kind!r}; one of {', '.join(KINDS)}")
    module, attribute, _ = _REGISTRIES[kind]
    return getattr(importlib.import_module(module), attribute)


def schema(kind: str, name: str | None) -> dict[str, Param]:
    """The parameter schema of one entry; ConfigError naming the choices if unknown."""
    entries = registry(kind)
    name = NATURAL if kind == "scenario" and name is None else name
    if name not in entries:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of {', '.join(entries)}")
    return getattr(entries[name], _REGISTRIES[kind][2])


def owner(kind: str, name: str | None) -> str:
    """How error messages name an entry: ``"method 'ifca'"``."""
    return f"{kind} '{NATURAL if kind == 'scenario' and name is None else name}'"


def validate_params(kind: str, name: str | None, values: dict | None = None) -> dict:
    """:func:`fedcore.params.validate` against the entry's schema (defaults filled in)."""
    return validate(schema(kind, name), values, owner(kind, name))


def method_colors() -> dict[str, str | None]:
    """Registered method -> its figure colour (``Strategy.color``), in registry order."""
    return {name: getattr(cls, "color", None) for name, cls in registry("method").items()}


def spec_schema(kind: str, name: str | None) -> dict[str, Param]:
    """What a run spec may set for an entry: its schema (plus :data:`DATA_OPTIONS` for a
    scenario)."""
    own = schema(kind, name)
    return {**own, **DATA_OPTIONS} if kind == "scenario" else own


def parse_params(kind: str, name: str | None, items: str | Iterable[str]) -> dict:
    """``--param k=v`` text -> typed values of :func:`spec_schema` (only those given)."""
    return parse(spec_schema(kind, name), items, owner(kind, name))


def check_overrides(kind: str, name: str | None, values: dict | None) -> dict:
    """Check ``values`` against :func:`spec_schema` and return them coerced, WITHOUT
    filling defaults in.

    Run specs record only what the user chose; this keeps that while still rejecting a
    bad value before anything runs.
    """
    checked = validate(spec_schema(kind, name), values, owner(kind, name))
    return {k: checked[k] for k in (values or {})}
