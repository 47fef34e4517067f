"""How a method that needs the number of clusters K gets it: the fair-comparison K modes.

A CFL comparison is only fair when every method knows the same things. Methods whose
schema has both ``n_clusters`` and ``estimate_k`` (FL+HC, k-means, IFCA, FeSEM, FedGroup)
can be run in two modes:

* ``"given"`` — ``n_clusters`` is the scenario's TRUE number of groups: oracle knowledge,
  marked "K given (oracle)" in every table;
* ``"estimated"`` — ``estimate_k=True``: the method estimates K from its own
  representation after warm-up (never from the true groups), marked "K estimated".

Methods that discover K themselves (CFL, PACFL with its threshold) are unaffected and
marked "K discovered"; the oracle baseline is marked "true groups".
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

K_MODES = ("given", "estimated")
#: Parameters a K mode sets; setting them by hand as well is a conflict.
K_PARAMS = ("n_clusters", "estimate_k")
LABELS = {"given": "K given (oracle)", "estimated": "K estimated"}
NO_K = "no clustering"  # fedavg, local (a CSV reads "" back as missing)


def _schema(method: str) -> dict:
    from .strategies import STRATEGIES
    return STRATEGIES[method].param_schema if method in STRATEGIES else {}


def needs_k(method: str) -> bool:
    """Whether ``method`` takes K (``n_clusters``) and can estimate it (``estimate_k``)."""
    schema = _schema(method)
    return "n_clusters" in schema and "estimate_k" in schema


def parse_k_modes(text) -> list[str]:
    """``"given,estimated"`` -> ``["given", "estimated"]`` (one-line error otherwise)."""
    items = text if isinstance(text, list | tuple) else str(text).split(",")
    modes = [str(m).strip() for m in items if str(m).strip()]
    bad = [m for m in modes if m not in K_MODES]
    if not modes or bad or len(set(modes)) != len(modes):
        shown = ",".join(map(str, items))
        raise ConfigError(f"--k {shown!r}: expected given, estimated or given,estimated")
    return modes


def check_k_mode(method: str, k_mode: str | None, method_params: dict) -> None:
    """One-line ConfigError when ``k_mode`` cannot apply to ``method`` as configured."""
    if k_mode is None:
        return
    if k_mode not in K_MODES:
        raise ConfigError(f"k mode {k_mode!r}: expected one of {', '.join(K_MODES)}")
    if not needs_k(method):
        raise ConfigError(f"method '{method}' does not take K (no n_clusters/estimate_k "
                          "parameters): it cannot run with a K mode")
    pinned = sorted(set(method_params) & set(K_PARAMS))
    if pinned:
        raise ConfigError(f"method '{method}': {', '.join(pinned)} is set by the K mode "
                          f"'{k_mode}'; do not also set it as a parameter")


def apply_k_mode(method: str, method_params: dict, k_mode: str | None,
                 true_groups) -> dict:
    """The method parameters a run uses under ``k_mode`` (a new dict).

    ``true_groups`` (the dataset's ground truth) is read only in ``"given"`` mode.
    """
    check_k_mode(method, k_mode, method_params)
    params = dict(method_params)
    if k_mode == "given":
        if true_groups is None:
            raise ConfigError(f"K given needs the true groups, and this data has none: "
                              f"run '{method}' with K estimated")
        params["n_clusters"] = int(len(np.unique(np.asarray(true_groups))))
    elif k_mode == "estimated":
        params["estimate_k"] = True
    return params


def k_label(method: str, method_params: dict, k_mode: str | None = None) -> str:
    """How the method got K, for tables: "K given (oracle)", "K estimated", "true groups",
    "K discovered", "K = 4 (fixed)" or "no clustering" (fedavg, local)."""
    if k_mode in LABELS:
        return LABELS[k_mode]
    if method == "oracle":
        return "true groups"
    schema = _schema(method)
    if method_params.get("estimate_k"):
        return LABELS["estimated"]
    if "n_clusters" in schema:
        k = method_params.get("n_clusters", schema["n_clusters"].default)
        return "K discovered" if int(k) == 0 else f"K = {int(k)} (fixed)"
    return "K discovered" if "max_clusters" in schema else NO_K


def row_label(method: str, k: str) -> str:
    """Table row of a method under a K label: ``"ifca [K estimated]"``."""
    return f"{method} [{k}]" if k and k != NO_K else str(method)
