"""The `engineer chain` command line at tiny L: it runs, lowers the loss and writes its figure."""

import re

from diffsci.cli._main import main


def test_cli_engineer_chain_tiny(tmp_path, capsys):
    status = main(
        [
            "engineer",
            "chain",
            "--sites",
            "5",
            "--target",
            "ramp",
            "--steps",
            "20",
            "--lr",
            "0.1",
            "--print-every",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    assert (tmp_path / "engineer_chain.png").stat().st_size > 0
    out = capsys.readouterr().out
    losses = [float(x) for x in re.findall(r"loss ([0-9.e+-]+)  E0", out)]
    assert len(losses) == 20
    assert losses[-1] < 0.2 * losses[0]
    assert "figure:" in out
