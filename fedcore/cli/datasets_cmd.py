"""``python -m fedcore datasets``: list bundled datasets and heterogeneity scenarios."""

from __future__ import annotations

import json

import numpy as np


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list bundled datasets and scenarios",
                                   description="List the bundled datasets (with size and "
                                   "licence) and the heterogeneity scenarios (with "
                                   "parameters).")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=run)


def dataset_rows() -> list[dict]:
    """One dict per bundled dataset: name, task, kind, clients, samples, features, classes...

    A dataset whose source package is not installed is listed with ``unavailable`` and
    the reason in ``note`` (the others stay usable).
    """
    from ..data import BUNDLED
    from ..errors import DataError

    rows = []
    for name, entry in BUNDLED.items():
        row = {"name": name, "task": entry.task, "kind": entry.kind,
               "scenario": entry.default_scenario if entry.natural_clients else "-",
               "licence": entry.licence, "source": entry.source}
        try:
            pool = entry.loader()
        except DataError as exc:
            rows.append({**row, "clients": "unavailable", "samples": "-", "features": "-",
                         "classes": "-", "note": str(exc)})
            continue
        clients = (len(np.unique(pool.client_column)) if pool.client_column is not None
                   else "by scenario")
        rows.append({**row, "clients": clients, "samples": int(len(pool.y)),
                     "features": int(pool.X.shape[1]),
                     "classes": len(pool.label_names) if pool.task == "classification"
                     else "-"})
    return rows


def scenario_rows() -> list[dict]:
    from ..partition import SCENARIOS

    return [{"name": s.name, "description": s.description,
             "params": {k: {kk: vv for kk, vv in v.to_dict().items() if kk != "help"}
                        for k, v in s.params.items()}} for s in SCENARIOS.values()]


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns),
             "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def run(args) -> int:
    datasets, scenarios = dataset_rows(), scenario_rows()
    if args.json:
        print(json.dumps({"datasets": datasets, "scenarios": scenarios}, indent=2))
        return 0
    print("Bundled datasets")
    print(_table(datasets, ["name", "kind", "task", "clients", "samples", "features",
                            "classes", "scenario", "licence"]))
    for row in datasets:
        if row.get("note"):
            print(f"note: {row['name']}: {row['note']}")
    print("\nScenarios (make_scenario / --scenario; parameters via --param k=v)")
    for s in scenarios:
        params = ", ".join(f"{k}={v['default']!r} [{v['type']}]" for k, v in s["params"].items())
        print(f"  {s['name']:<14} {s['description']}")
        if params:
            print(f"  {'':<14} params: {params}")
    return 0
