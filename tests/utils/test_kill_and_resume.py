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
import shutil
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
    """Poll the checkpoint until `target` units are saved: the seconds between the last two
    saves, or None if the run ended first."""
    start, last, times = time.monotonic(), -1, []
    while (done := progress(kind, folder)) < target:
        if child.poll() is not None:
            return None
        if time.monotonic() - start > _TIMEOUT:
            raise AssertionError(f"no progress past {done} of {target} in {_TIMEOUT} s")
        if done != last:
            times.append(time.monotonic())
            last = done
        time.sleep(0.002)
    times.append(time.monotonic())
    return times[-1] - times[-2] if len(times) >= 3 else 0.02


def _run_and_kill(kind, folder, rng, env):
    """Start the run in `folder` and SIGKILL it after a random number of saves plus a random
    fraction of the time between two. On a loaded machine the run can finish before the kill
    lands (the test process is not scheduled in time): then it starts over, killed after its
    first save. Returns the number of saves waited for and a description of the kill point."""
    total = KINDS[kind][2]
    target = int(rng.integers(1, total // 2 + 1))  # at least one save, half the run to go
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, _SCRIPT, kind, str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            interval = _wait_for(kind, folder, target, child)
            if interval is not None:
                time.sleep(rng.uniform(0.0, interval))
        finally:
            child.kill()
            out, err = child.communicate()
        where = f"killed after {target} of {total} saves + up to {interval or 0:.3f} s"
        if child.returncode == -signal.SIGKILL:
            return target, where
        assert child.returncode == 0, f"the run failed before the kill:\n{out}\n{err}"
        shutil.rmtree(folder)
        folder.mkdir()
        target = 1
    raise AssertionError(f"{kind}: the run finished before the kill three times")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kill_at_a_random_instant_resumes_bit_identically(kind, tmp_path):
    seed = _seed()
    rng = np.random.default_rng(seed)
    env = dict(os.environ, DIFFSCI_TEST_COMPILATION_CACHE=str(tmp_path / "compiled"))
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    killed.mkdir()
    fresh.mkdir()
    target, where = _run_and_kill(kind, killed, rng, env)
    where = f"seed {seed}: {where}"
    assert not (killed / "result.npz").exists(), where
    # the checkpoint the kill left is readable and holds at least what was waited for: the kill
    # lost at most the work since it
    assert progress(kind, killed) >= target, where

    run = subprocess.run(
        [sys.executable, _SCRIPT, kind, str(killed), str(fresh)],
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
    )
    assert run.returncode == 0, f"{where}\n{run.stdout}\n{run.stderr}"
    resumed, whole = np.load(killed / "result.npz"), np.load(fresh / "result.npz")
    assert sorted(resumed.files) == sorted(whole.files) and whole.files, where
    for name in whole.files:
        np.testing.assert_array_equal(resumed[name], whole[name], err_msg=f"{where}, {name}")
