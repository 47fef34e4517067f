"""``python -m fedcore import PATH --out DIR``: open a run made by another framework."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "import", help="turn an exchange record (.npz or directory) into a FedLens run DIR",
        description="Validate a FedLens exchange record (see README 'Import results') and "
                    "write it as a normal run directory that the dashboard's Runs page lists.")
    p.add_argument("path", help="exchange file (.npz) or directory (manifest.json + arrays.npz)")
    p.add_argument("--out", required=True, help="output run directory")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..interop import import_exchange

    out, result, dataset = import_exchange(Path(args.path), Path(args.out))
    print(json.dumps({"out": str(out), "method": result.method, "clients": result.n_clients,
                      "rounds": int(len(result.rounds)),
                      "representations": list(result.representations),
                      "client_data": dataset is not None,
                      "mean_client_accuracy": result.mean_client_accuracy}))
    return 0
