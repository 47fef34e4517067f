"""``python -m fedcore explain RUN_DIR``: why the run's clients were grouped, in plain words.

Rebuilds the run's dataset from its spec, checks the fingerprint, computes every explanation
(:func:`fedcore.explain.explain_all`) and prints the per-cluster stories with the surrogate's
fidelity. ``--out DIR`` also writes the tables behind every statement (CSV) and the stories
(JSON), so each number can be traced.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

from ..csv_safe import to_csv


def register(sub) -> None:
    p = sub.add_parser("explain", help="explain why a run's clients were grouped")
    p.add_argument("run_dir", help="a run directory written by `python -m fedcore run`")
    p.add_argument("--seed", type=int, default=0, help="surrogate / sampling seed")
    p.add_argument("--no-models", action="store_true",
                   help="skip SHAP of the cluster models (faster)")
    p.add_argument("--top", type=int, default=5, help="descriptors listed per cluster")
    p.add_argument("--out", default=None, help="directory for the tables (CSV) and stories")
    p.set_defaults(func=run)


def _load(run_dir: str):
    from ..runner import ExperimentSpec, load_spec_dataset
    from ..store import load_run

    spec_dict, _, result = load_run(run_dir)
    dataset = load_spec_dataset(ExperimentSpec.from_dict(spec_dict))
    if result.dataset_fingerprint and dataset.fingerprint() != result.dataset_fingerprint:
        print(f"warning: the dataset rebuilt from {run_dir}/spec.json differs from the one "
              "the run used (fingerprint mismatch); explanations may not match the run",
              file=sys.stderr)
    return dataset, result


def write_tables(bundle, out: Path) -> list[Path]:
    """Write every table of an ExplanationBundle as CSV plus ``stories.json``."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "descriptors": bundle.descriptors,
        "membership_ranking": bundle.membership.ranking,
        "membership_source_ranking": bundle.membership.source_ranking,
        "divergence": bundle.divergence,
        "label_divergence": bundle.label_divergence,
        "label_shift": bundle.label_shift,
    }
    if bundle.model_attributions is not None:
        tables["model_attributions"] = bundle.model_attributions
    if bundle.disagreement is not None:
        # The stories cite this table by name, so it must be on disk next to them.
        tables["prediction_disagreement"] = bundle.disagreement
    paths = []
    for name, table in tables.items():
        path = out / f"{name}.csv"
        to_csv(table, path, index=name == "descriptors")
        paths.append(path)
    m = bundle.membership
    stories = {"fidelity": {"accuracy": m.accuracy, "balanced_accuracy": m.balanced_accuracy,
                            "n_folds": m.n_folds, "trustworthy": m.trustworthy,
                            "warning": m.warning},
               "stories": [asdict(s) for s in bundle.stories], "errors": bundle.errors,
               "timings": bundle.timings}
    path = out / "stories.json"
    path.write_text(json.dumps(_finite(stories), indent=2, default=float))
    return paths + [path]


def _finite(obj):
    """NaN/inf -> None, so stories.json is strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def run(args) -> int:
    from ..explain import explain_all

    dataset, result = _load(args.run_dir)
    bundle = explain_all(dataset, result, seed=args.seed, model_attributions=not args.no_models)
    m = bundle.membership
    fid = "cannot be estimated" if m.fidelity is None else (
        f"{m.fidelity:.0%} balanced accuracy, {m.accuracy:.0%} accuracy, {m.n_folds}-fold CV")
    print(f"{result.method} on {dataset.name}: {len(m.clusters)} clusters explained; "
          f"surrogate fidelity {fid}")
    if m.warning:
        print(f"CAVEAT: {m.warning}")
    for story in bundle.stories:
        print()
        print(story.text())
        top = m.top(story.cluster, args.top)
        if len(top):
            print("  top descriptors: " + ", ".join(
                f"{r.descriptor} ({r.mean_abs_shap:.3g})" for r in top.itertuples()))
    if bundle.model_attributions is not None and len(bundle.model_attributions):
        att = bundle.model_attributions
        print()
        for model, part in att.groupby("model", sort=False):
            feats = ", ".join(part.nsmallest(args.top, "rank")["feature"].astype(str))
            print(f"{model} looks most at: {feats}")
    for err in bundle.errors:
        print(f"note: {err}", file=sys.stderr)
    if args.out:
        paths = write_tables(bundle, Path(args.out))
        print(f"\nwrote {len(paths)} files to {args.out}")
    return 0
