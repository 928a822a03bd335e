"""Atomic, pickle-free checkpoints and the chunked driver with exact resume."""

import json
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffsci.utils import (
    CheckpointError,
    checkpoint_exists,
    load_checkpoint,
    read_checkpoint_metadata,
    run_chunked,
    save_checkpoint,
)


class Params(eqx.Module):
    w: jax.Array
    b: jax.Array


def test_round_trip_of_plain_containers(tmp_path):
    tree = {
        "a": jnp.arange(5.0),
        "b": [np.int32(3), (jnp.ones((2, 3), jnp.float32), None)],
        "key": jax.random.key(7),
        "c": jnp.array([1 + 2j]),
    }
    save_checkpoint(tmp_path / "ck", tree, {"step": 12, "note": "x"})
    assert checkpoint_exists(tmp_path / "ck")
    assert sorted(os.listdir(tmp_path)) == [_data_file(tmp_path, "ck").name, "ck.json"]
    loaded, meta = load_checkpoint(tmp_path / "ck")
    assert meta == {"step": 12, "note": "x"}
    assert read_checkpoint_metadata(tmp_path / "ck") == meta
    assert isinstance(loaded["b"], list) and isinstance(loaded["b"][1], tuple)
    assert loaded["b"][1][1] is None
    np.testing.assert_array_equal(loaded["a"], tree["a"])
    assert loaded["b"][1][0].dtype == np.float32
    np.testing.assert_array_equal(loaded["c"], tree["c"])
    # the key comes back as a key and draws the same numbers
    np.testing.assert_array_equal(
        jax.random.normal(loaded["key"], (3,)), jax.random.normal(tree["key"], (3,))
    )
    # the data file is a plain npz: loadable without pickle
    with np.load(_data_file(tmp_path, "ck"), allow_pickle=False) as data:
        assert len(data.files) == 5
    sidecar = json.loads((tmp_path / "ck.json").read_text())
    assert sidecar["format"].startswith("diffsci-checkpoint")


def test_custom_nodes_need_like(tmp_path):
    params = Params(w=jnp.ones((2, 2)), b=jnp.zeros(2))
    save_checkpoint(tmp_path / "p", params)
    with pytest.raises(CheckpointError, match="like="):
        load_checkpoint(tmp_path / "p")
    loaded, _ = load_checkpoint(tmp_path / "p", like=params)
    assert isinstance(loaded, Params)
    np.testing.assert_array_equal(loaded.w, params.w)
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(tmp_path / "p", like=Params(w=jnp.ones(3), b=jnp.zeros(2)))


def _data_file(folder, name):
    """The data file that the sidecar of checkpoint `name` names (content-addressed)."""
    return folder / json.loads((folder / f"{name}.json").read_text())["npz"]


def test_corruption_and_missing_files_are_detected(tmp_path):
    save_checkpoint(tmp_path / "ck", {"x": jnp.arange(100.0)}, {"step": 3})
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "other")
    sidecar = (tmp_path / "ck.json").read_text()
    data = _data_file(tmp_path, "ck")
    original = data.read_bytes()
    # a data file replaced or flipped behind the sidecar's back
    np.savez(data, leaf_000000=np.zeros(100))
    with pytest.raises(CheckpointError, match=r"does not match the checksum .* delete"):
        load_checkpoint(tmp_path / "ck")
    data.unlink()
    with pytest.raises(CheckpointError, match=r"data file .* is missing"):
        load_checkpoint(tmp_path / "ck")
    data.write_bytes(original)
    load_checkpoint(tmp_path / "ck")
    # an edited sidecar (the step counter) is refused, by load and by the metadata reader
    (tmp_path / "ck.json").write_text(sidecar.replace('"step": 3', '"step": 4'))
    for read in (load_checkpoint, read_checkpoint_metadata):
        with pytest.raises(CheckpointError, match="does not match its own checksum"):
            read(tmp_path / "ck")
    # truncated and emptied sidecars say that the checkpoint is damaged
    for text in (sidecar[: len(sidecar) // 2], ""):
        (tmp_path / "ck.json").write_text(text)
        with pytest.raises(CheckpointError, match=r"ck.json is damaged \(not valid JSON"):
            load_checkpoint(tmp_path / "ck")
    (tmp_path / "ck.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not a diffsci checkpoint"):
        load_checkpoint(tmp_path / "ck")
    # a sidecar copied from another checkpoint in the same folder
    save_checkpoint(tmp_path / "other", {"x": jnp.zeros(100)}, {"step": 3})
    (tmp_path / "ck.json").write_text((tmp_path / "other.json").read_text())
    with pytest.raises(CheckpointError, match="not this checkpoint's"):
        load_checkpoint(tmp_path / "ck")


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path):
    save_checkpoint(tmp_path / "ck", {"x": jnp.arange(3.0)}, {"v": 1})
    files = sorted(os.listdir(tmp_path))
    with pytest.raises(TypeError, match="leaf 0"):
        save_checkpoint(tmp_path / "ck", {"x": object()}, {"v": 2})
    # metadata that JSON cannot hold is refused before anything is written
    for bad in ({"v": object()}, {"v": float("nan")}, ["v"]):
        with pytest.raises(TypeError, match="metadata"):
            save_checkpoint(tmp_path / "ck", {"x": jnp.arange(4.0)}, bad)
    loaded, meta = load_checkpoint(tmp_path / "ck")
    assert meta == {"v": 1}
    np.testing.assert_array_equal(loaded["x"], [0.0, 1.0, 2.0])
    assert sorted(os.listdir(tmp_path)) == files  # no temporary files left


def test_a_new_save_replaces_the_old_files(tmp_path):
    for v in range(3):
        save_checkpoint(tmp_path / "ck", {"x": jnp.arange(3.0) + v}, {"v": v})
    save_checkpoint(tmp_path / "ck.1", {"x": jnp.zeros(2)})  # a neighbour is left alone
    assert sorted(os.listdir(tmp_path)) == sorted(
        [_data_file(tmp_path, "ck").name, "ck.json", _data_file(tmp_path, "ck.1").name, "ck.1.json"]
    )
    assert load_checkpoint(tmp_path / "ck")[1] == {"v": 2}


def test_checkpoints_of_the_first_format_still_load(tmp_path):
    # format 1: <path>.npz and a sidecar without its own checksum (written by hand here, as
    # diffsci before format 2 wrote it); a new save upgrades it and removes the old file
    import hashlib

    np.savez(tmp_path / "ck.npz", leaf_000000=np.arange(3.0))
    digest = hashlib.sha256((tmp_path / "ck.npz").read_bytes()).hexdigest()
    sidecar = {
        "format": "diffsci-checkpoint-1",
        "npz": "ck.npz",
        "sha256": digest,
        "treedef": "",
        "structure": {"t": "dict", "k": ["x"], "c": [{"t": "leaf", "i": 0}]},
        "leaves": [{"shape": [3], "dtype": "<f8"}],
        "metadata": {"step": 7},
    }
    (tmp_path / "ck.json").write_text(json.dumps(sidecar))
    tree, meta = load_checkpoint(tmp_path / "ck")
    np.testing.assert_array_equal(tree["x"], [0.0, 1.0, 2.0])
    assert meta == {"step": 7}
    save_checkpoint(tmp_path / "ck", tree, {"step": 8})
    assert "ck.npz" not in os.listdir(tmp_path)
    assert load_checkpoint(tmp_path / "ck")[1] == {"step": 8}


# A save killed (SIGKILL) at each file operation, in a subprocess: the operation is patched to
# kill the process when it is called for the n-th time during the second save.
_KILL_SCRIPT = """
import os, signal, sys
import numpy as np
from pathlib import Path
import diffsci.utils._checkpoint as ck

folder, op, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ck.save_checkpoint(folder / "ck", {"x": np.arange(4.0)}, {"v": 1})
ck.save_checkpoint(folder / "ck", {"x": np.arange(4.0) + 1}, {"v": 2})
calls = [0]

def killer(real):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped

if op == "replace":
    ck.os.replace = killer(os.replace)
elif op == "unlink":
    Path.unlink = killer(Path.unlink)
elif op == "write":
    ck.np.savez = killer(np.savez)
elif op == "fsync":
    ck.os.fsync = killer(os.fsync)
ck.save_checkpoint(folder / "ck", {"x": np.arange(4.0) + 2}, {"v": 3})
print("finished")
"""


@pytest.mark.parametrize(
    ("op", "n"),
    [
        ("write", 1),
        ("fsync", 1),
        ("replace", 1),
        ("fsync", 2),
        ("replace", 2),
        ("fsync", 3),
        ("unlink", 1),
    ],
)
def test_a_kill_at_any_file_operation_leaves_a_loadable_checkpoint(tmp_path, op, n):
    import signal
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(tmp_path), op, str(n)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # every operation of a save, in order: the data file's write and sync, its rename, the
    # sidecar's sync and rename, the folder's sync, the removal of the old data file
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    tree, meta = load_checkpoint(tmp_path / "ck")
    # the old checkpoint or the new one, never a mixture or an error
    assert meta["v"] in (2, 3)
    np.testing.assert_array_equal(tree["x"], np.arange(4.0) + meta["v"] - 1)
    # the next save cleans what the killed one left behind
    save_checkpoint(tmp_path / "ck", tree, {"v": 4})
    assert sorted(os.listdir(tmp_path)) == [_data_file(tmp_path, "ck").name, "ck.json"]


def _random_walk(key):
    @jax.jit
    def step(carry, i):
        def body(x, t):
            x = x + jax.random.normal(jax.random.fold_in(key, t), x.shape)
            return x, jnp.sum(x)

        return jax.lax.scan(body, carry, i * 10 + jnp.arange(10))

    return step


class Interrupt(Exception):
    pass


def test_interrupted_and_resumed_run_is_bit_identical(tmp_path):
    key = jax.random.key(3)
    step = _random_walk(key)
    x0 = jnp.zeros(5)
    full_carry, full_out = run_chunked(step, x0, num_chunks=6)

    calls = []

    def flaky(carry, i):
        if i == 4:
            raise Interrupt
        calls.append(i)
        return step(carry, i)

    with pytest.raises(Interrupt):
        run_chunked(flaky, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 3})
    assert calls == [0, 1, 2, 3]
    assert read_checkpoint_metadata(tmp_path / "state")["steps"] == 4

    calls.clear()
    carry, out = run_chunked(step, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 3})
    np.testing.assert_array_equal(carry, full_carry)
    np.testing.assert_array_equal(out, full_out)
    assert out.shape == (60,)
    # a finished run resumes to the same result without running anything
    carry2, out2 = run_chunked(
        flaky, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 3}
    )
    assert calls == []
    np.testing.assert_array_equal(out2, full_out)
    # another run's parameters are refused
    with pytest.raises(CheckpointError, match="different run"):
        run_chunked(step, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 4})


def test_outputs_none_and_bad_arguments(tmp_path):
    carry, out = run_chunked(
        lambda c, i: (c + i, None), jnp.zeros(()), num_chunks=3, checkpoint_dir=tmp_path
    )
    assert out is None and float(carry) == 3.0
    with pytest.raises(ValueError, match="num_chunks"):
        run_chunked(lambda c, i: (c, None), 0.0, num_chunks=0)
