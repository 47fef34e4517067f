"""Atomic replacement of a run directory (and of one file), and the repair of an
interrupted one.

Used by :func:`fedcore.store.save_run`: on Linux the finished temporary directory and the
previous run are swapped in one ``renameat2(RENAME_EXCHANGE)`` call, so the run directory
always holds one complete run. Elsewhere the previous run is first parked in
``.DIR.old-<pid>-*/run``; :func:`recover_interrupted` moves it back if its writer died
between the two renames. Temporary directories carry their writer's pid, so those of dead
processes can be told from those of a save in progress.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2``); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``path`` so that readers see the old file or the whole new one, never a part:
    the text goes to a temporary file of this process first, then replaces ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(path: Path, kind: str) -> bool:
    """A ``.DIR.tmp-<pid>-*`` / ``.DIR.old-<pid>-*`` directory whose writer is gone."""
    tail = path.name.rsplit(f".{kind}-", 1)[-1]
    pid = tail.split("-", 1)[0]
    if not pid.isdigit():  # written before owners were recorded
        return True
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def recover_interrupted(run_dir: str | Path) -> None:
    """Repair what a kill during :func:`save_run` can leave next to ``run_dir``.

    A previous run parked in ``.DIR.old-*/run`` while ``DIR`` is missing goes back to
    ``DIR``; nothing else is touched (temporary directories are removed by the next save).
    """
    run_dir = Path(run_dir)
    parent = run_dir.parent
    if run_dir.exists() or not parent.is_dir():
        return
    for old in sorted(parent.glob(f".{run_dir.name}.old-*")):
        if (old / "run").is_dir() and _stale(old, "old"):
            try:
                os.rename(old / "run", run_dir)
            except OSError:
                return
            shutil.rmtree(old, ignore_errors=True)
            return


def clean_stale(out_dir: Path) -> None:
    recover_interrupted(out_dir)
    for kind in ("tmp", "old"):
        for path in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
            # an .old directory is only garbage once DIR itself is back
            if path.is_dir() and _stale(path, kind) and (kind == "tmp" or out_dir.exists()):
                shutil.rmtree(path, ignore_errors=True)
