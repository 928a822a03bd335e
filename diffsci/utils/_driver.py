"""Run a long computation in chunks with progress, checkpoints and exact resume."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from diffsci._internal._validate import fail, static_int

from ._checkpoint import (
    checkpoint_exists,
    load_checkpoint,
    read_run_checkpoint_metadata,
    save_checkpoint,
)
from ._progress import ProgressBar

_STATE = "state"


def _chunk_name(i: int) -> str:
    return f"chunk_{i:06d}"


def _like_device(loaded, like):
    """Put loaded leaves where the template's leaves live (keeps a sharding across a resume)."""

    def put(a, b):
        if isinstance(b, jax.Array) and not jnp.issubdtype(b.dtype, jax.dtypes.prng_key):
            return jax.device_put(jnp.asarray(a, dtype=b.dtype), b.sharding)
        return a

    return jax.tree_util.tree_map(put, loaded, like)


def _describe(x: Any) -> Any:
    """A JSON description of a run parameter that changes with its value: numbers and strings as
    they are, a scalar array as its number, a larger array by shape, dtype and SHA-256 of its
    bytes, an equinox Module (a sampler, a target) or dataclass field by field, a function by its
    qualified name."""
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return x if np.isfinite(x) else repr(x)
    if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    if isinstance(x, jax.Array | np.ndarray | np.generic):
        a = np.asarray(x)
        if a.ndim == 0 and a.dtype.kind in "biuf":
            return _describe(a.item())
        digest = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        return {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": digest}
    if isinstance(x, dict):
        return {str(k): _describe(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, list | tuple):
        return [_describe(v) for v in x]
    if isinstance(x, functools.partial):
        return {
            "partial": _describe(x.func),
            "args": _describe(x.args),
            "keywords": _describe(x.keywords),
        }
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: _describe(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"type": type(x).__qualname__, **fields}
    if callable(x):
        return f"{getattr(x, '__module__', '?')}.{getattr(x, '__qualname__', type(x).__qualname__)}"
    return f"{type(x).__module__}.{type(x).__qualname__}"


def _normalize(metadata):
    return json.loads(json.dumps(_describe(metadata or {}), sort_keys=True))


def run_chunked(
    step: Callable[[Any, int], tuple[Any, Any]],
    carry,
    *,
    num_chunks: int,
    checkpoint_dir: str | Path | None = None,
    metadata: dict | None = None,
    progress: bool | ProgressBar = False,
    desc: str = "",
    postfix: Callable[[Any, Any], dict] | None = None,
) -> tuple[Any, Any]:
    """Run `carry, out = step(carry, i)` for `i = 0, ..., num_chunks - 1`, checkpointing after each.

    With `checkpoint_dir`, after chunk `i` the chunk's outputs are saved as `chunk_<i>` and then
    the carry as `state` (with `next_chunk = i + 1`), each atomically
    ([`diffsci.utils.save_checkpoint`][]). Called again with the same directory, the run resumes
    after the last completed chunk. If `step` is a deterministic function of `(carry, i)` (for
    example it draws its randomness from `jax.random.fold_in(key, i)`), an interrupted and resumed
    run gives bit-identical results to an uninterrupted one.

    **Arguments:**

    - `step`: `(carry, chunk_index) -> (carry, outputs)`, typically a jitted `lax.scan`. `outputs`
      is a pytree of arrays with a leading axis (steps of the chunk), or `None`.
    - `carry`: the initial carry (a pytree of arrays). On resume it serves as the template for
      the stored carry: structure, shapes and device placement (sharding) are taken from it.
    - `num_chunks`: the number of chunks of the whole run.
    - `checkpoint_dir`: folder for the checkpoints, or `None` for no checkpoints.
    - `metadata`: a dict describing the run: sizes, seeds, and every parameter that changes the
      result. Values may be JSON values, arrays (recorded by value when scalar, else by shape,
      dtype and SHA-256), equinox Modules and dataclasses (field by field: a sampler with its
      temperature, couplings and step size) and functions (by name). It is stored, and a resume
      refuses a folder whose run had a different description.
    - `progress`: `True` for a text progress bar on stderr, or a `ProgressBar` to update.
    - `desc`: the progress bar's label.
    - `postfix`: optional `(carry, outputs) -> dict` of values shown after the bar.

    **Returns:**

    `(carry, outputs)`: the final carry and the outputs of all chunks concatenated along their
    leading axis (as JAX arrays; `None` if `step` returns `None`).

    Checks: `step` (and `postfix`) callable, `num_chunks` an integer >= 1, `checkpoint_dir` a
    path or `None`, `metadata` a dict or `None`, `progress` a bool or a `ProgressBar`, `desc` a
    string.
    """
    who = "run_chunked"
    if not callable(step):
        fail(who, "step", "to be callable as step(carry, chunk_index)", step, TypeError)
    num_chunks = static_int(num_chunks, "num_chunks", who, minimum=1)
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, str | os.PathLike):
        fail(
            who,
            "checkpoint_dir",
            "to be a path (str or pathlib.Path) or None",
            checkpoint_dir,
            TypeError,
        )
    if metadata is not None and not isinstance(metadata, dict):
        fail(who, "metadata", "to be a dict or None", metadata, TypeError)
    if not isinstance(progress, bool | ProgressBar):
        fail(who, "progress", "to be True, False or a ProgressBar", progress, TypeError)
    if not isinstance(desc, str):
        fail(who, "desc", "to be a string", desc, TypeError)
    if postfix is not None and not callable(postfix):
        fail(
            who, "postfix", "to be callable as postfix(carry, outputs) or None", postfix, TypeError
        )
    meta = _normalize({"num_chunks": num_chunks, "run": metadata or {}})
    start = 0
    directory = None if checkpoint_dir is None else Path(checkpoint_dir)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        state_path = directory / _STATE
        if checkpoint_exists(state_path):
            stored = read_run_checkpoint_metadata(state_path, meta, "run_chunked")
            loaded, _ = load_checkpoint(state_path, like=carry)
            carry = _like_device(loaded, carry)
            start = int(stored["next_chunk"])

    bar = progress if isinstance(progress, ProgressBar) else None
    own_bar = bar is None and bool(progress)
    if own_bar:
        bar = ProgressBar(num_chunks, desc=desc, initial=start)
    new_outputs = []
    try:
        for i in range(start, num_chunks):
            carry, out = step(carry, i)
            if directory is not None:
                out = jax.block_until_ready(out)
                save_checkpoint(directory / _chunk_name(i), {"outputs": out}, {"chunk": i})
                save_checkpoint(directory / _STATE, carry, {"next_chunk": i + 1, "run": meta})
            new_outputs.append(out)
            if bar is not None:
                bar.update(1, **(postfix(carry, out) if postfix is not None else {}))
    finally:
        if own_bar and bar is not None:  # `own_bar` implies a bar
            bar.close()

    template = {"outputs": new_outputs[0]} if new_outputs else None
    old_outputs = []
    for i in range(start):
        # `start > 0` only on a resume, which needs a `directory`
        tree, _ = load_checkpoint(cast(Path, directory) / _chunk_name(i), like=template)
        old_outputs.append(tree["outputs"])
    outputs = old_outputs + new_outputs
    if all(o is None for o in outputs):
        return carry, None
    merged = jax.tree_util.tree_map(
        lambda *xs: jnp.asarray(np.concatenate([np.asarray(x) for x in xs], axis=0)), *outputs
    )
    return carry, merged
