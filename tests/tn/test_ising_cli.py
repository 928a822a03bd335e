"""`python -m diffsci ising`: the flagship sweep is accurate and resumes from its checkpoint."""

import numpy as np
import pytest

from diffsci.cli._main import main
from diffsci.physics import ising_rg_thermodynamics as thermodynamics
from diffsci.physics import onsager_curves as exact_curves
from diffsci.utils import CheckpointError, load_checkpoint, save_checkpoint


class _Stop(Exception):
    pass


def test_ising_sweep_resumes_after_an_interruption(tmp_path):
    temps = np.array([2.0, 2.6])
    settings = dict(chi=6, method="hotrg", steps=14)
    path = tmp_path / "ckpt"

    def stop_after_first(i, *_):
        if i == 0:
            raise _Stop

    with pytest.raises(_Stop):
        thermodynamics(temps, **settings, progress=stop_after_first, checkpoint=path)
    seen = []
    resumed = thermodynamics(
        temps, **settings, progress=lambda i, *r: seen.append((i, r[-1])), checkpoint=path
    )
    # the first temperature comes back from the checkpoint (seconds None), the second is computed
    assert [i for i, _ in seen] == [0, 1] and seen[0][1] is None and seen[1][1] is not None
    fresh = thermodynamics(temps, **settings)
    np.testing.assert_array_equal(np.asarray(resumed), np.asarray(fresh))
    # a run of other settings or temperatures is refused, and the checkpoint is left as it was
    before = load_checkpoint(path)
    for other in (dict(settings, chi=5), dict(settings, steps=13)):
        with pytest.raises(CheckpointError, match="different run"):
            thermodynamics(temps, **other, checkpoint=path)
    with pytest.raises(CheckpointError, match="different run"):
        thermodynamics(temps[::-1], **settings, checkpoint=path)
    after = load_checkpoint(path)
    assert after[1] == before[1]
    np.testing.assert_array_equal(after[0]["rows"], before[0]["rows"])


def test_a_sweep_checkpoint_of_the_first_format_resumes(tmp_path):
    # The first format recorded the settings only; its rows are taken where the temperatures
    # agree (nothing is computed here: the one temperature is done)
    settings = dict(chi=6, method="hotrg", steps=14)
    rows = np.array([[0.9, -1.1, 0.4]])
    save_checkpoint(
        tmp_path / "old", {"temps": np.array([2.0]), "rows": rows}, metadata={"settings": settings}
    )
    np.testing.assert_array_equal(
        np.stack(thermodynamics(np.array([2.0]), **settings, checkpoint=tmp_path / "old"), -1),
        rows,
    )
    with pytest.raises(CheckpointError, match="different run"):
        thermodynamics(np.array([2.5]), **settings, checkpoint=tmp_path / "old")


def test_ising_command_against_onsager(tmp_path, capsys):
    argv = ["ising", "--chi", "8", "--temps", "2.0,2.8", "--steps", "20", "--out", str(tmp_path)]
    assert main(argv) == 0
    table = np.loadtxt(tmp_path / "ising.csv", delimiter=",", skiprows=1)
    assert (tmp_path / "ising.png").stat().st_size > 0
    exact = exact_curves(table[:, 0])
    # Away from T_c, chi = 8 HOTRG is accurate to ~1e-6 in ln Z/N, ~3e-5 in u and ~1e-3 in C;
    # the references are Onsager's exact curves, not the code's output.
    np.testing.assert_allclose(table[:, 1], exact[0], atol=5e-6)
    np.testing.assert_allclose(table[:, 2], exact[1], atol=3e-4)
    np.testing.assert_allclose(table[:, 3], exact[2], atol=5e-3)
    assert main(argv) == 0
    assert capsys.readouterr().out.count("(from checkpoint)") == 2
