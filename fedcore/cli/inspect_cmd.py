"""``python -m fedcore inspect PATH``: validate an upload and summarise it.

Bad input exits with status 2 and one ``error: ...`` line (the central handler in
:mod:`fedcore.cli` prints every :class:`~fedcore.errors.DataError`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def register(subparsers) -> None:
    parser = subparsers.add_parser("inspect", help="check an upload and summarise it",
                                   description="Read a CSV/Parquet/ZIP/NPZ/LEAF file (or a "
                                   "bundled dataset name) and print clients, sizes, "
                                   "features, labels and notes.")
    parser.add_argument("path", help="file to inspect, or a bundled dataset name")
    parser.add_argument("--client-column", default=None, help="column with the client id")
    parser.add_argument("--label-column", default=None, help="column with the label")
    parser.add_argument("--task", default="classification",
                        choices=("classification", "regression"),
                        help="read the label column as classes (default) or as a number "
                        "to predict; the output suggests one, it never switches")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-mb", type=float, default=200.0,
                        help="reject files larger than this many MB (default 200)")
    parser.set_defaults(func=run)


def _label_line(dataset) -> str:
    if dataset.is_regression:
        y = np.concatenate([*dataset.y_train, *dataset.y_test]).astype(float)
        return (f"target:    {dataset.label_names[0]} (regression): min {y.min():.4g}, "
                f"median {np.median(y):.4g}, max {y.max():.4g}")
    counts = dataset.label_counts("train").sum(axis=0) + dataset.label_counts("test").sum(axis=0)
    return "labels:    " + ", ".join(f"{k} ({int(v)})" for k, v in counts.items())


def _suggestion(args) -> str | None:
    """The task the label column looks like, when it is not the one asked for."""
    from ..data import read_upload, suggest_task

    pool, _, _ = read_upload(args.path, args.client_column, args.label_column,
                             max_bytes=int(args.max_mb * 2**20))
    hint = suggest_task(np.asarray(pool.label_names)[pool.y])
    if hint.task == args.task:
        return None
    return (f"suggest:   the label column looks like {hint.task} ({hint.reason}); "
            f"use --task {hint.task} if it is")


def describe(dataset) -> list[str]:
    """Readable summary lines of a FederatedDataset."""
    sizes = dataset.train_sizes() + dataset.test_sizes()
    features = dataset.feature_names
    shown = ", ".join(features[:8]) + (f", ... ({len(features)} in all)"
                                       if len(features) > 8 else "")
    lines = [
        f"dataset:   {dataset.name}",
        f"clients:   {dataset.n_clients}",
        f"samples:   {int(sizes.sum())} (per client min {int(sizes.min())}, median "
        f"{float(np.median(sizes)):g}, max {int(sizes.max())})",
        f"features:  {dataset.n_features} (input shape {dataset.input_shape}): {shown}",
        _label_line(dataset),
    ]
    if dataset.true_groups is not None:
        lines.append(f"groups:    {len(np.unique(dataset.true_groups))} true groups")
    notes = dataset.provenance.get("notes") or []
    for note in notes:
        lines.append(f"note:      {note}")
    return lines


def run(args) -> int:
    from ..data import BUNDLED, load_upload, resolve_dataset

    if args.path in BUNDLED and not Path(args.path).exists():
        dataset = resolve_dataset(args.path, scenario=None if BUNDLED[args.path]
                                  .natural_clients else "iid", seed=args.seed,
                                  test_fraction=args.test_fraction)
    else:
        dataset = load_upload(args.path, args.client_column, args.label_column,
                              test_fraction=args.test_fraction, seed=args.seed,
                              max_bytes=int(args.max_mb * 2**20), task=args.task)
    lines = describe(dataset)
    if args.task == "classification" and not (args.path in BUNDLED
                                              and not Path(args.path).exists()):
        hint = _suggestion(args)
        if hint:
            lines.append(hint)
    print("\n".join(lines))
    return 0
