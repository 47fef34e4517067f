"""Run identity and display names of session results (pure: no streamlit import).

A result is identified by its *run id* -- method, hyper-parameters, dataset fingerprint and
the whole simulation config (rounds, seed, model...) -- so two runs of one method with
different parameters (IFCA with K=2 and K=4) live side by side, and re-running the same
setting replaces the earlier (identical) result instead of duplicating it.

Display names are what tables, legends and select boxes show: the method name, plus the
parameters that tell runs of that method apart, plus "oracle K" when the number of clusters
was set from the known true groups (an oracle choice a paper must disclose).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

#: Marker appended to the display name of runs whose K came from the known true groups.
ORACLE_MARK = "oracle K"


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def run_id(result) -> str:
    """``<method>-<8 hex>`` from method, params, dataset fingerprint and config (incl. seed)."""
    payload = json.dumps(_plain({"method": result.method, "params": result.params,
                                 "data": result.dataset_fingerprint,
                                 "config": result.config}), sort_keys=True, default=str)
    return f"{result.method}-{hashlib.sha1(payload.encode()).hexdigest()[:8]}"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(_short(v) for v in value)
    return str(value)


def _varying(results: dict, method: str) -> dict[str, list[str]]:
    """Settings (params, then config) that differ between the runs of ``method``."""
    same = [r for r in results.values() if r.method == method]
    if len(same) < 2:
        return {"params": [], "config": []}
    out = {}
    for part in ("params", "config"):
        flat = [_flatten(getattr(r, part) or {}) for r in same]
        names = sorted({k for f in flat for k in f})
        out[part] = [k for k in names if len({json.dumps(_plain(f.get(k)), default=str)
                                              for f in flat}) > 1]
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def display_names(results: dict, oracle: set | frozenset = frozenset()) -> dict[str, str]:
    """Run key -> a unique, readable name (``ifca (n_clusters=2)``, ``flhc · oracle K``).

    Parameters
    ----------
    results : dict
        Run key -> SimulationResult.
    oracle : set of str
        Run keys whose number of clusters was taken from the true groups.
    """
    names = {}
    for key, r in results.items():
        vary = _varying(results, r.method)
        params, config = _flatten(r.params or {}), _flatten(r.config or {})
        bits = [f"{k}={_short(params.get(k))}" for k in vary["params"]]
        bits += [f"{k.split('.')[-1]}={_short(config.get(k))}" for k in vary["config"]]
        name = r.method + (f" ({', '.join(bits)})" if bits else "")
        if key in oracle:
            name += f" · {ORACLE_MARK}"
        names[key] = name
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    for key, name in list(names.items()):
        if seen[name] > 1:  # e.g. the same setting on two datasets: tell them apart by id
            names[key] = f"{name} [{key.rsplit('-', 1)[-1][:6]}]"
    return names

