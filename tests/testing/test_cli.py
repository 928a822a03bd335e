"""python -m diffsci check-grads: passes a right rule, fails a planted bug with exit status 1."""

import subprocess
import sys
from pathlib import Path

import pytest

from diffsci.cli import main

PLANTED = str(Path(__file__).with_name("cli_planted.py"))


def test_a_right_function_passes(capsys):
    status = main(
        ["check-grads", f"{PLANTED}:good", "--shape", "3,3", "--shape", "3", "--order", "2"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "PASS" in out


def test_a_planted_bug_fails_with_a_report(capsys):
    status = main(
        [
            "check-grads",
            f"{PLANTED}:bad",
            "--shape",
            "3,3",
            "--shape",
            "3",
            "--seed",
            "1",
            "--no-vmap",
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL" in out and "finite differences" in out and "FD error estimate" in out


def test_complex_hermitian_inputs(capsys):
    status = main(
        [
            "check-grads",
            f"{PLANTED}:eigvals_squared",
            "--shape",
            "3,3:complex128",
            "--matrix",
            "hermitian",
            "--no-vmap",
        ]
    )
    assert status == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nocolon", "--shape", "3"], "MODULE:FUNCTION"),
        ([f"{PLANTED}:missing", "--shape", "3"], "has no attribute"),
        (["no_such_module_here:f", "--shape", "3"], "cannot import"),
        ([f"{PLANTED}:good", "--shape", "3,x"], "cannot read the shape"),
        ([f"{PLANTED}:good"], "--shape"),
    ],
)
def test_usage_errors_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["check-grads", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_the_subcommand():
    out = subprocess.run(
        [sys.executable, "-m", "diffsci", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "check-grads" in out
