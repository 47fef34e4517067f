"""``python -m fedcore report DIR``: rebuild the figures of a run or grid from stored data."""

from __future__ import annotations

import json

from ..errors import ConfigError

FORMATS = ("png", "svg", "pdf")  # as fedcore.export.figures.FORMATS, without importing plotly


def register(sub) -> None:
    p = sub.add_parser("report", help="rebuild figures (and grid tables) from a stored run/grid")
    p.add_argument("dir", help="a run directory (summary.json) or a grid directory (grid.json)")
    p.add_argument("--format", default="pdf",
                   help="pdf, svg or png; several comma-separated (e.g. pdf,png)")
    p.add_argument("--width", type=float, default=None, help="figure width in mm")
    p.add_argument("--height", type=float, default=None, help="figure height in mm")
    p.add_argument("--dpi", type=float, default=300, help="PNG resolution")
    p.add_argument("--font-size", type=float, default=9, help="base font size in points")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..report import rebuild_report

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(f"--format {args.format!r}: choose from {', '.join(FORMATS)}")
    kwargs = {"dpi": args.dpi, "font_size": args.font_size, "units": "mm"}
    if args.width:
        kwargs["width"] = args.width
    if args.height:
        kwargs["height"] = args.height
    written = rebuild_report(args.dir, formats=formats, **kwargs)
    print(json.dumps({"dir": args.dir, "written": [str(p) for p in written]}))
    return 0
