"""A local MathJax v3 copy so that LaTeX in figure titles renders without network.

Kaleido loads MathJax from a CDN unless told otherwise; with no network that either fails or
stalls. ``python -m fedcore.export.mathjax --install`` fetches the npm package ``mathjax@3.2.2``
with the ordinary ``npm pack`` client (the npm registry is reachable where pip is) and keeps
only ``es5/tex-svg.js`` (self-contained TeX input + SVG output, ~2 MB) under
``.fedlens/mathjax/`` in the project. :func:`mathjax_path` finds it (``FEDLENS_MATHJAX`` may
point at another ``tex-svg.js``, or be ``off``); without it, figures are exported with MathJax
disabled (never fetched from a CDN) and ``$...$`` labels appear as plain text.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = PROJECT_ROOT / ".fedlens" / "mathjax"
SCRIPT_NAME = "tex-svg.js"


def mathjax_path() -> Path | None:
    """The local ``tex-svg.js`` to give kaleido, or None (not installed, or
    ``FEDLENS_MATHJAX=off``)."""
    env = os.environ.get("FEDLENS_MATHJAX")
    if env and env.lower() in ("off", "0", "false", "none"):
        return None
    candidates = [Path(env)] if env else []
    candidates.append(DEFAULT_DIR / SCRIPT_NAME)
    for path in candidates:
        if path.is_file() and path.stat().st_size > 100_000:
            return path
    return None


def install(dest: Path = DEFAULT_DIR, version: str = MATHJAX_VERSION) -> Path:
    """Download MathJax with ``npm pack`` and keep ``es5/tex-svg.js`` in ``dest``.

    Returns
    -------
    Path
        The installed script. Idempotent: an existing copy is kept.
    """
    target = Path(dest) / SCRIPT_NAME
    if target.is_file() and target.stat().st_size > 100_000:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: install Node.js/npm (Debian: apt-get install npm) "
                           "or set FEDLENS_MATHJAX to a MathJax v3 tex-svg.js")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"mathjax@{version}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        tgz = next(Path(tmp).glob("mathjax-*.tgz"))
        with tarfile.open(tgz) as tar:
            member = tar.getmember(f"package/es5/{SCRIPT_NAME}")
            data = tar.extractfile(member).read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fedcore.export.mathjax",
                                     description="Install/check the local MathJax copy.")
    parser.add_argument("--install", action="store_true", help="fetch it with npm if missing")
    parser.add_argument("--dest", default=str(DEFAULT_DIR))
    args = parser.parse_args(argv)
    if args.install:
        try:
            path = install(Path(args.dest))
        except (RuntimeError, subprocess.SubprocessError, OSError, KeyError) as exc:
            print(f"error: MathJax not installed ({exc}); math in figures will show as text",
                  file=sys.stderr)
            return 1
        print(f"MathJax {MATHJAX_VERSION}: {path}")
        return 0
    path = mathjax_path()
    print(path if path else "no local MathJax (run: python -m fedcore.export.mathjax --install)")
    return 0 if path else 1


if __name__ == "__main__":
    sys.exit(main())
