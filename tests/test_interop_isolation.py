"""The core, the dashboard pages' modules and the exchange format never import flwr."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import sys, importlib, pathlib
import fedcore, fedcore.interop, fedcore.cli, fedcore.simulation, fedcore.store
import fedcore.interop.reader, fedcore.interop.to_run, fedcore.interop.recorder
from fedcore.cli import build_parser
build_parser()
for p in sorted(pathlib.Path('fedcore/ui').glob('*.py')):
    importlib.import_module('fedcore.ui.' + p.stem)
bad = sorted(m for m in sys.modules if m == 'flwr' or m.startswith('flwr.'))
print('FLWR', bad)
"""


def test_no_flwr_unless_the_bridge_is_used():
    proc = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "FLWR []" in proc.stdout
