"""Widget groups generated from the registries' parameter schemas.

A schema maps a parameter name to ``dict(type, default, min, max, step, help, choices)``
(the ``param_schema`` of strategies, scenarios, clusterers and explainers). ``type`` may be a
string (``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"choice"``, ``"ints"``) or a Python type.
"""

from __future__ import annotations

import ast

import streamlit as st

from fedcore.errors import ConfigError


def _kind(spec: dict) -> str:
    t = spec.get("type", type(spec.get("default")))
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.lower()
    if spec.get("choices") is not None:
        return "choice"
    if name in ("int", "integer"):
        return "int"
    if name in ("float", "number", "double"):
        return "float"
    if name in ("bool", "boolean"):
        return "bool"
    if name in ("ints", "tuple", "list", "int_list", "tuple[int]"):
        return "ints"
    return "str"


def _label(name: str, spec: dict) -> str:
    return spec.get("label") or name.replace("_", " ")


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


def _widget(target, name: str, spec: dict, key: str, sliders: bool):
    kind, label, default = _kind(spec), _label(name, spec), spec.get("default")
    help_text = spec.get("help")
    lo, hi = spec.get("min"), spec.get("max")
    _fit_remembered_value(key, kind, spec, lo, hi)
    if kind == "choice":
        choices = list(spec["choices"])
        index = choices.index(default) if default in choices else 0
        return target.selectbox(label, choices, index=index, key=key, help=help_text)
    if kind == "bool":
        return target.checkbox(label, value=bool(default), key=key, help=help_text)
    if kind == "int":
        value = int(_clip(default if default is not None else (lo or 0), lo, hi))
        step = int(spec.get("step") or 1)
        if sliders and lo is not None and hi is not None and int(hi) > int(lo):
            return int(target.slider(label, int(lo), int(hi), value, step=step, key=key,
                                     help=help_text))
        return int(target.number_input(label, min_value=None if lo is None else int(lo),
                                       max_value=None if hi is None else int(hi), value=value,
                                       step=step, key=key, help=help_text))
    if kind == "float":
        value = float(_clip(default if default is not None else (lo or 0.0), lo, hi))
        step = spec.get("step")
        if sliders and lo is not None and hi is not None and float(hi) > float(lo):
            step = float(step or (float(hi) - float(lo)) / 100)
            return float(target.slider(label, float(lo), float(hi), value, step=step, key=key,
                                       help=help_text, format=step_format(step)))
        return float(target.number_input(label, min_value=None if lo is None else float(lo),
                                         max_value=None if hi is None else float(hi),
                                         value=value, step=None if step is None else float(step),
                                         format="%g", key=key, help=help_text))
    if kind == "ints":
        text = target.text_input(label, ", ".join(str(v) for v in (default or ())), key=key,
                                 help=(help_text or "") + " (comma-separated integers)")
        return parse_ints(text, name)
    text = target.text_input(label, "" if default is None else str(default), key=key,
                             help=help_text)
    return _literal(text) if not isinstance(default, str) else text


def _fit_remembered_value(key: str, kind: str, spec: dict, lo, hi) -> None:
    """Make a value remembered from an earlier run valid for this run's schema.

    Ranges depend on the data (cluster counts are capped at the number of clients,
    thresholds are in distance units), so a value kept across a dataset or result change
    may fall outside them; Streamlit would raise instead of clamping.
    """
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if kind == "choice":
        if value not in list(spec["choices"]):
            del st.session_state[key]
    elif kind in ("int", "float") and isinstance(value, int | float) and not isinstance(
            value, bool):
        clipped = _clip(value, lo, hi)
        if clipped != value:
            st.session_state[key] = int(clipped) if kind == "int" else float(clipped)


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


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
