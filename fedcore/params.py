"""One parameter type for every registry (strategies, scenarios, clusterers, embedders,
explainers) and the one place that checks values against it.

A schema is a ``dict`` mapping a parameter name to a :class:`Param`. :func:`validate` fills
defaults, coerces text from the CLI or a form (``"4"`` -> 4), checks ranges and choices, and
rejects unknown names; every failure is ONE :class:`~fedcore.errors.ConfigError` line naming
the registry entry, the parameter and what is allowed. :func:`parse` turns ``--param k=v``
text into typed values. The UI draws widgets from :attr:`Param.kind`, the CLI and the
reproducibility bundle print :meth:`Param.to_dict`.

This module imports nothing heavy, so the CLI can validate before TensorFlow loads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import ConfigError

TYPES = (int, float, bool, str)
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    """One tunable parameter.

    Parameters
    ----------
    type : {int, float, bool, str}
        Python type of the value (a parameter with ``choices`` is a choice among them).
    default
        Used when the parameter is not given; must itself validate.
    min, max : float, optional
        Inclusive bounds of a number (None = unbounded).
    choices : tuple, optional
        The allowed values (drawn as a select box).
    help : str
        One sentence for the UI tooltip and ``--help`` listings.
    step : float, optional
        Widget step of a number (UI only).
    """

    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    help: str = ""
    step: float | None = None

    def __post_init__(self):
        if self.type not in TYPES:
            raise TypeError(f"Param type must be one of int, float, bool, str, not {self.type}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    @property
    def kind(self) -> str:
        """``"choice"``, ``"bool"``, ``"int"``, ``"float"`` or ``"str"`` (which widget)."""
        return "choice" if self.choices is not None else self.type.__name__

    def allowed(self) -> str:
        """What values are allowed, in words: ``"an int in [1, 50]"``."""
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        article = "an" if self.type is int else "a"
        text = f"{article} {self.type.__name__}"
        if self.min is not None and self.max is not None:
            return f"{text} in [{self.min}, {self.max}]"
        if self.min is not None:
            return f"{text} >= {self.min}"
        if self.max is not None:
            return f"{text} <= {self.max}"
        return text

    def check(self, value, owner: str = "", name: str = "value"):
        """``value`` coerced to :attr:`type` and checked; ConfigError otherwise."""
        where = f"{owner}: {name}" if owner else name
        try:
            value = _coerce(self.type, value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}={value!r} is not {self.allowed()}") from None
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{where}={value!r} is not in the allowed choices: "
                              f"{', '.join(str(c) for c in self.choices)}")
        if self.type in (int, float):
            side = ("below the minimum" if self.min is not None and value < self.min else
                    "above the maximum" if self.max is not None and value > self.max else None)
            if side:
                raise ConfigError(f"{where}={value!r} is outside the allowed range "
                                  f"({side}): must be {self.allowed()}")
        return value

    def parse(self, text: str, owner: str = "", name: str = "value"):
        """Typed value of command-line or form text (``"0.5"`` -> 0.5)."""
        return self.check(str(text).strip(), owner, name)

    def with_(self, **changes) -> Param:
        """A copy with some fields changed (data-dependent ranges and defaults)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-ready description (CLI listings, bundles)."""
        return {"type": self.kind, "default": self.default, "min": self.min, "max": self.max,
                "choices": None if self.choices is None else list(self.choices),
                "help": self.help}


def _coerce(kind: type, value):
    if kind is bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise ValueError(value)
    if kind is str:
        # A mapping is kept as is (e.g. natural's ``true_groups={client: group}``).
        return value if isinstance(value, str | Mapping) else str(value)
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        value = float(value.strip()) if kind is float else _int_text(value)
    if kind is float:
        value = float(value)
        if math.isnan(value):
            raise ValueError(value)
        return value
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def _int_text(text: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


def defaults(schema: Mapping[str, Param]) -> dict:
    """``{name: default}`` of a schema."""
    return {name: p.default for name, p in schema.items()}


def validate(schema: Mapping[str, Param], values: Mapping | None = None,
             owner: str = "") -> dict:
    """Every parameter of ``schema``: given values checked and coerced, defaults filled in.

    Parameters
    ----------
    schema : dict of str to Param
    values : dict, optional
        Overrides (from code, a form or :func:`parse`).
    owner : str
        Names the registry entry in error messages, e.g. ``"method 'ifca'"``.

    Raises
    ------
    ConfigError
        One line: unknown parameter, wrong type, out of range or not a choice.
    """
    values = dict(values or {})
    unknown = [k for k in values if k not in schema]
    if unknown:
        known = ", ".join(schema) or "none"
        raise ConfigError(f"{owner + ': ' if owner else ''}unknown parameter "
                          f"{', '.join(repr(k) for k in unknown)}; parameters: {known}")
    return {name: p.check(values[name], owner, name) if name in values else p.default
            for name, p in schema.items()}


def parse(schema: Mapping[str, Param], text: str | Iterable[str], owner: str = "") -> dict:
    """``"k=v"`` (or several, as a list or comma-free repeated ``--param``) -> typed values.

    Only the given parameters are returned (defaults are not filled in), so a run spec
    records what the user chose; each value is checked like :func:`validate` does.
    """
    items = [text] if isinstance(text, str) else list(text)
    out = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{owner + ': ' if owner else ''}--param {item!r}: expected "
                              "KEY=VALUE")
        if key not in schema:
            validate(schema, {key: value}, owner)  # raises the unknown-parameter line
        out[key] = schema[key].parse(value, owner, key)
    return out
