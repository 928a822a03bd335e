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
    assert sorted(os.listdir(tmp_path)) == ["ck.json", "ck.npz"]
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
    with np.load(tmp_path / "ck.npz", allow_pickle=False) as data:
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


def test_corruption_and_missing_files_are_detected(tmp_path):
    save_checkpoint(tmp_path / "ck", {"x": jnp.arange(100.0)})
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "other")
    # an npz replaced behind the sidecar's back (e.g. a crash between the two renames)
    np.savez(tmp_path / "ck.npz", leaf_000000=np.zeros(100))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tmp_path / "ck")


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path):
    save_checkpoint(tmp_path / "ck", {"x": jnp.arange(3.0)}, {"v": 1})
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "ck", {"x": object()}, {"v": 2})
    loaded, meta = load_checkpoint(tmp_path / "ck")
    assert meta == {"v": 1}
    np.testing.assert_array_equal(loaded["x"], [0.0, 1.0, 2.0])
    assert sorted(os.listdir(tmp_path)) == ["ck.json", "ck.npz"]  # no temporary files left


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
    assert read_checkpoint_metadata(tmp_path / "state")["next_chunk"] == 4

    calls.clear()
    carry, out = run_chunked(step, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 3})
    np.testing.assert_array_equal(carry, full_carry)
    np.testing.assert_array_equal(out, full_out)
    assert out.shape == (60,)
    # a finished run resumes to the same result without running anything
    carry2, out2 = run_chunked(flaky, x0, num_chunks=6, checkpoint_dir=tmp_path,
                               metadata={"seed": 3})
    assert calls == []
    np.testing.assert_array_equal(out2, full_out)
    # another run's parameters are refused
    with pytest.raises(CheckpointError, match="different run"):
        run_chunked(step, x0, num_chunks=6, checkpoint_dir=tmp_path, metadata={"seed": 4})


def test_outputs_none_and_bad_arguments(tmp_path):
    carry, out = run_chunked(lambda c, i: (c + i, None), jnp.zeros(()), num_chunks=3,
                             checkpoint_dir=tmp_path)
    assert out is None and float(carry) == 3.0
    with pytest.raises(ValueError, match="num_chunks"):
        run_chunked(lambda c, i: (c, None), 0.0, num_chunks=0)
