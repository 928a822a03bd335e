"""`python -m diffsci flow` runs end to end (tiny sizes), writes its figures and resumes."""

from diffsci.cli._main import main


def test_flow_cli(tmp_path, capsys):
    argv = [
        "flow",
        "gaussian",
        "--steps",
        "4",
        "--chunk-steps",
        "2",
        "--batch",
        "16",
        "--width",
        "4",
        "--flow-steps",
        "2",
        "--eval-samples",
        "64",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "F_q" in out and "F_IS" in out
    assert (tmp_path / "flow_gaussian_samples.png").is_file()
    assert (tmp_path / "flow_gaussian_free_energy.png").is_file()
    assert any((tmp_path / "checkpoints").iterdir())
    assert main(argv) == 0  # resumes from the checkpoint
