"""A long run killed with SIGKILL at a random instant resumes to exactly the uninterrupted result.

For each kind of long run that checkpoints (`run_chunked`, `sample`, `van_train`,
`train_variational`, `optimize_ipeps`, the `ising` sweep), a subprocess runs it with checkpoints
and is killed (SIGKILL: no handler, no cleanup) after a randomly chosen number of saved
checkpoints plus a random fraction of the time between two saves, so that the kill falls into a
computation or into a save. A second process resumes the killed run, then runs it uninterrupted in
a fresh folder; every array of the two results must be equal bit for bit.

The kill point comes from a random seed printed with any failure; `DIFFSCI_KILL_SEED=<seed>` in
the environment replays it. (The file operations inside one save are killed one by one in
`test_checkpoint.py`.)
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ._long_runs import KINDS, progress

_SCRIPT = str(Path(__file__).parent / "_long_runs.py")
_TIMEOUT = 300.0


def _seed():
    fixed = os.environ.get("DIFFSCI_KILL_SEED")
    return int(fixed) if fixed else int.from_bytes(os.urandom(4), "little")


def _wait_for(kind, folder, target, child):
    """Poll the checkpoint until `target` units are saved; the seconds between the last two."""
    start, last, times = time.monotonic(), -1, []
    while (done := progress(kind, folder)) < target:
        if child.poll() is not None:
            raise AssertionError(f"the run ended before the kill:\n{child.communicate()}")
        if time.monotonic() - start > _TIMEOUT:
            raise AssertionError(f"no progress past {done} of {target} in {_TIMEOUT} s")
        if done != last:
            times.append(time.monotonic())
            last = done
        time.sleep(0.002)
    times.append(time.monotonic())
    return times[-1] - times[-2] if len(times) >= 3 else 0.02


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kill_at_a_random_instant_resumes_bit_identically(kind, tmp_path):
    seed = _seed()
    rng = np.random.default_rng(seed)
    total = KINDS[kind][2]
    target = int(rng.integers(1, total - 2))  # at least one checkpoint, two more to go
    env = dict(os.environ, DIFFSCI_TEST_COMPILATION_CACHE=str(tmp_path / "compiled"))
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    killed.mkdir()
    fresh.mkdir()
    child = subprocess.Popen([sys.executable, _SCRIPT, kind, str(killed)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        interval = _wait_for(kind, killed, target, child)
        time.sleep(rng.uniform(0.0, interval))
        child.kill()
    finally:
        child.kill()
        out, err = child.communicate()
    where = f"seed {seed}: killed after {target} of {total} saves + up to {interval:.3f} s"
    assert child.returncode == -signal.SIGKILL, f"{where}\n{out}\n{err}"
    assert not (killed / "result.npz").exists(), where
    saved = progress(kind, killed)
    # what was saved before the kill is loadable and at least what was waited for
    assert target <= saved < total + 1, where

    run = subprocess.run([sys.executable, _SCRIPT, kind, str(killed), str(fresh)], env=env,
                         capture_output=True, text=True, timeout=_TIMEOUT)
    assert run.returncode == 0, f"{where}\n{run.stdout}\n{run.stderr}"
    resumed, whole = np.load(killed / "result.npz"), np.load(fresh / "result.npz")
    assert sorted(resumed.files) == sorted(whole.files) and whole.files, where
    for name in whole.files:
        np.testing.assert_array_equal(resumed[name], whole[name], err_msg=f"{where}, {name}")
