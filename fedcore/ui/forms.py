"""Widget groups generated from the registries' parameter schemas.

A schema maps a parameter name to a :class:`fedcore.params.Param` (the ``param_schema`` of
strategies and the ``params`` of scenarios, clusterers, embedders and explainers); its
:attr:`~fedcore.params.Param.kind` picks the widget.
"""

from __future__ import annotations

import streamlit as st

from fedcore.errors import ConfigError
from fedcore.params import Param


def _label(name: str) -> str:
    return name.replace("_", " ")


def schema_widgets(schema: dict, key_prefix: str, sliders: bool = False,
                   container=None, skip: tuple[str, ...] = ()) -> dict:
    """Draw one widget per schema entry and return ``{name: value}``.

    Parameters
    ----------
    schema : dict
        Parameter schema (see module docstring).
    key_prefix : str
        Makes widget keys unique per page/method (``"sim.ifca"``).
    sliders : bool
        Use sliders for bounded numbers (live controls on the Clusters page) instead of
        number inputs (forms).
    container : streamlit container, optional
    skip : tuple of str
        Parameters not to draw (set elsewhere on the page).
    """
    target = container if container is not None else st
    values = {}
    for name, spec in schema.items():
        if name in skip:
            continue
        values[name] = _widget(target, name, spec, f"{key_prefix}.{name}", sliders)
    return values


def _widget(target, name: str, spec: Param, key: str, sliders: bool):
    kind, label, help_text = spec.kind, _label(name), spec.help or None
    _fit_remembered_value(key, spec)
    if kind == "choice":
        choices = list(spec.choices)
        index = choices.index(spec.default) if spec.default in choices else 0
        return target.selectbox(label, choices, index=index, key=key, help=help_text)
    if kind == "bool":
        return target.checkbox(label, value=bool(spec.default), key=key, help=help_text)
    if kind in ("int", "float"):
        return _number(target, label, spec, key, help_text, sliders)
    return target.text_input(label, "" if spec.default is None else str(spec.default),
                             key=key, help=help_text)


def _number(target, label: str, spec: Param, key: str, help_text, sliders: bool):
    cast, lo, hi = spec.type, spec.min, spec.max
    lo, hi = (None if lo is None else cast(lo)), (None if hi is None else cast(hi))
    value = cast(_clip(spec.default if spec.default is not None else (lo or 0), lo, hi))
    step = spec.step
    if sliders and lo is not None and hi is not None and hi > lo:
        step = cast(step or (1 if cast is int else (hi - lo) / 100))
        fmt = {} if cast is int else {"format": step_format(step)}  # every step visible
        return cast(target.slider(label, lo, hi, value, step=step, key=key, help=help_text,
                                  **fmt))
    if cast is int:
        return int(target.number_input(label, min_value=lo, max_value=hi, value=value,
                                       step=int(step or 1), key=key, help=help_text))
    return float(target.number_input(label, min_value=lo, max_value=hi, value=value,
                                     step=None if step is None else float(step), format="%g",
                                     key=key, help=help_text))


def _fit_remembered_value(key: str, spec: Param) -> None:
    """Make a value remembered from an earlier run valid for this run's schema.

    Ranges depend on the data (cluster counts are capped at the number of clients,
    thresholds are in distance units), so a value kept across a dataset or result change
    may fall outside them; Streamlit would raise instead of clamping.
    """
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if spec.kind == "choice":
        if value not in spec.choices:
            del st.session_state[key]
    elif spec.kind in ("int", "float") and isinstance(value, int | float) and not isinstance(
            value, bool):
        clipped = _clip(value, spec.min, spec.max)
        if clipped != value:
            st.session_state[key] = spec.type(clipped)


def step_format(step: float) -> str:
    """A printf format showing every step of a slider (0.003 -> "%.3f", 2.5 -> "%.1f")."""
    import math
    if step <= 0:
        return "%g"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step * 10**decimals, 6) % 1:  # 0.25 needs 2 digits, not 1
        decimals += 1
    return f"%.{min(decimals, 8)}f"


def _clip(value, lo, hi):
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return value


def parse_ints(text: str, name: str = "value") -> tuple[int, ...]:
    """``"64, 32"`` -> ``(64, 32)``; raises ConfigError naming ``name`` otherwise."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{name}: expected comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise ConfigError(f"{name}: every value must be >= 1, got {text!r}")
    return values


#: Training losses offered on a regression dataset (``FitConfig.loss``).
REGRESSION_LOSSES = {"auto": "auto (mean squared error)", "mse": "mean squared error",
                     "huber": "Huber (robust to outliers)"}


def loss_widgets(prefix: str, label: str = "Training loss",
                 auto: str = REGRESSION_LOSSES["auto"]) -> tuple[str, float]:
    """A regression loss (auto = MSE) and its Huber delta, keyed ``<prefix>.loss`` and
    ``<prefix>.huber_delta`` (the Simulate form and the Grids form)."""
    c1, c2 = st.columns(2)
    names = {**REGRESSION_LOSSES, "auto": auto}
    loss = c1.selectbox(label, list(names), format_func=names.get, key=f"{prefix}.loss",
                        help="The regression loss each client minimises; MAE, RMSE and R² are "
                             "reported whichever is chosen. Classification data always "
                             "trains on cross-entropy (auto).")
    delta = c2.number_input("Huber delta", 1e-6, 1e6, 1.0, format="%g",
                            key=f"{prefix}.huber_delta",
                            help="Huber loss only: errors smaller than this are squared, larger "
                                 "ones count linearly. In standard deviations of the training "
                                 "targets (targets are standardised for training; every "
                                 "reported error is in the target's own units).")
    return loss, delta
