"""Memory bombs: each is refused (or read) in a child process whose peak RSS is bounded.

The bombs are small on disk (or written here: their expansion ratio is capped at 100, so
they cannot be small) and would take 3-16 GB with a reader that parses first and checks
later. The bound (1.5 GB) is well under that and under the documented 2 GB budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "data"))
from corpus_cases import BOMBS, COMMITTED_BOMBS, write_big_bomb  # noqa: E402

PEAK_BOUND = 1.5 * 2**30
CHILD = r"""
import json, resource, sys
from fedcore.data import read_upload
from fedcore.errors import DataError
out = {"error": None}
try:
    read_upload(sys.argv[1])
except DataError as exc:
    out["error"] = str(exc)
# VmHWM: this process's own peak (ru_maxrss would include the forking parent's size)
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
out["peak"] = (int(hwm[0].split()[1]) * 1024 if hwm
               else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print(json.dumps(out))
"""


def peak_of_reading(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, timeout=600, cwd=HERE.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_refused_within_the_memory_bound(name, tmp_path):
    path = HERE / "data" / "bad" / name
    if name not in COMMITTED_BOMBS:
        path = tmp_path / name
        write_big_bomb(name, path)
    out = peak_of_reading(path)
    print(f"{name}: peak RSS {out['peak'] / 2**20:.0f} MB; {out['error']}")
    expected = BOMBS[name]
    if expected is None:
        assert out["error"] is None, out["error"]
    else:
        assert out["error"] is not None and expected in out["error"]
    assert out["peak"] < PEAK_BOUND, f"{name}: peak {out['peak'] / 2**20:.0f} MB"
