"""The README's NumPy export example runs as written and round-trips through `import`."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Worked example: a plain NumPy loop", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_round_trips(tmp_path):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 26  # "about 20 lines"
    env_path = str(ROOT)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([sys.executable, "-m", "fedcore", "import", "numpy_ifca.npz",
                          "--out", "runs/numpy-ifca"], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr

    from fedcore.interop import read_exchange
    from fedcore.store import load_run

    ex = read_exchange(tmp_path / "numpy_ifca.npz")
    spec, summary, result = load_run(tmp_path / "runs" / "numpy-ifca")
    assert result.method == "numpy-ifca" and result.params == {"k": 2, "lr": 0.5}
    assert result.client_ids == [f"client{i}" for i in range(8)]
    np.testing.assert_array_equal(result.assignment_history, ex.assignments)
    np.testing.assert_allclose(result.client_metrics["accuracy"], ex.accuracy[-1])
    np.testing.assert_allclose(result.representations["updates"].X,
                               ex.representations["updates"])
    assert summary["ari"] == 1.0  # the loop separates the two concepts
    assert spec["imported"]["format_version"] == 1
    assert len(result.rounds) == 5
    np.testing.assert_allclose(result.rounds["mean_accuracy"], ex.accuracy.mean(axis=1))
