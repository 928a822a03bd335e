"""The example of docs/long-runs.md runs: it converges, stops through its rule, and resumes."""

import json
import pathlib
import re

import numpy as np

from diffsci.utils import RESULTS

DOC = pathlib.Path(__file__).parents[2] / "docs" / "long-runs.md"


def test_the_long_runs_page_example_runs_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it writes runs/fit
    block = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    scope: dict = {}
    exec(compile(block, str(DOC), "exec"), scope)
    out = scope["out"]
    assert out.result == RESULTS.successful and out.message == "loss below 1e-8"
    np.testing.assert_allclose(np.asarray(out.state[0]), 3.0, atol=1e-4)
    # the first step (rate 1.5 overshoots: the error times -2) was rejected and retried at 0.75
    assert out.stats["rejected"] == 1 and out.history["rate"][0] == 0.75
    assert np.all(np.diff(out.history["loss"]) < 0)
    rows = [json.loads(line) for line in open("runs/fit/log.jsonl")]
    assert rows[0]["event"] == "start" and rows[-1]["result"] == "successful"
    # the same call again resumes from the final checkpoint and stops at once
    scope2: dict = {}
    exec(compile(block, str(DOC), "exec"), scope2)
    assert scope2["out"].stats["resumed_at"] == out.stats["steps"]
    np.testing.assert_array_equal(scope2["out"].history["loss"], out.history["loss"])
