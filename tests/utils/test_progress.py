"""The text progress bar."""

import io

from diffsci.utils import ProgressBar


def test_progress_bar_to_a_file():
    out = io.StringIO()
    with ProgressBar(4, desc="run", file=out, width=8, min_interval=0.0) as bar:
        for _ in range(4):
            bar.update(1, loss="0.5")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("run: [........] 0/4")
    assert lines[-1].startswith("run: [########] 4/4")
    assert "loss=0.5" in lines[-1]
    assert "\r" not in out.getvalue()


def test_progress_bar_resumed_and_disabled():
    out = io.StringIO()
    bar = ProgressBar(10, initial=5, file=out, width=10, min_interval=1e9)
    assert "[#####.....] 5/10" in bar.line()
    bar.update(1)  # throttled: not written
    bar.update(4)  # final: written
    assert out.getvalue().strip().splitlines()[-1].split()[1] == "10/10"
    silent = io.StringIO()
    off = ProgressBar(3, file=silent, enabled=False)
    off.update(3)
    off.close()
    assert silent.getvalue() == ""
