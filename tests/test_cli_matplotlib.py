"""matplotlib is the optional extra `plot`: without it, a command that draws stops before its
computation and says how to install it; `check-grads`, which draws nothing, runs as usual."""

import importlib.util
from pathlib import Path

import pytest

from diffsci.cli import main

PLANTED = str(Path(__file__).parent / "testing" / "cli_planted.py")


@pytest.fixture
def no_matplotlib(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "matplotlib" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    "command", [["ising"], ["demo"], ["ode", "lorenz"], ["coulomb"]], ids=lambda c: c[0]
)
def test_a_command_that_draws_says_how_to_install_matplotlib(
    command, no_matplotlib, tmp_path, capsys
):
    assert main([*command, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "diffsci[plot]" in err and command[0] in err
    assert not any(tmp_path.iterdir())  # it stopped before computing anything


def test_check_grads_needs_no_matplotlib(no_matplotlib, capsys):
    assert main(["check-grads", f"{PLANTED}:good", "--shape", "3,3", "--shape", "3"]) == 0
    assert "PASS" in capsys.readouterr().out
