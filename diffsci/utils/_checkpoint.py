"""Atomic checkpoints of pytrees of arrays: `.npz` data plus a JSON sidecar, no pickle."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

FORMAT = "diffsci-checkpoint-1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, corrupted or does not match what was expected."""


def _paths(path) -> tuple[Path, Path]:
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def _atomic_write(target: Path, write) -> None:
    """Write through `write(fileobj)` into a temporary file next to `target`, then rename it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _encode(tree, leaves: list) -> Any:
    """The structure of `tree` as JSON; leaves are appended to `leaves` and referred to by index."""
    if tree is None:
        return {"t": "none"}
    if isinstance(tree, dict):
        if not all(isinstance(k, str) for k in tree):
            return {"t": "opaque"}
        keys = sorted(tree)
        return {"t": "dict", "k": keys, "c": [_encode(tree[k], leaves) for k in keys]}
    if type(tree) in (list, tuple):
        return {"t": type(tree).__name__, "c": [_encode(c, leaves) for c in tree]}
    if isinstance(tree, (jax.Array, np.ndarray, np.generic, int, float, bool, complex)):
        leaves.append(tree)
        return {"t": "leaf", "i": len(leaves) - 1}
    return {"t": "opaque"}


def _decode(node, leaves):
    kind = node["t"]
    if kind == "none":
        return None
    if kind == "dict":
        return {k: _decode(c, leaves) for k, c in zip(node["k"], node["c"], strict=True)}
    if kind in ("list", "tuple"):
        children = [_decode(c, leaves) for c in node["c"]]
        return children if kind == "list" else tuple(children)
    if kind == "leaf":
        return leaves[node["i"]]
    raise CheckpointError(
        "load_checkpoint: the checkpoint holds a pytree of custom nodes (e.g. an equinox.Module); "
        "pass `like=` a pytree of the same structure to rebuild it"
    )


def _has_opaque(node) -> bool:
    return node["t"] == "opaque" or any(_has_opaque(c) for c in node.get("c", []))


def save_checkpoint(path, tree, metadata: dict | None = None) -> None:
    """Save a pytree of arrays atomically: `<path>.npz` (the arrays) and `<path>.json` (the rest).

    Both files are written to temporary files in the same folder and renamed into place
    (`os.replace`, atomic on POSIX), the `.npz` first and the JSON sidecar last: the sidecar holds
    the SHA-256 of the `.npz`, so a reader never accepts a half-written or mismatched pair. No
    pickle is involved: the arrays are stored with `numpy.savez`, the tree structure, dtypes and
    shapes, and `metadata` as JSON. JAX PRNG keys are stored as their key data and restored.

    **Arguments:**

    - `path`: the checkpoint's path without extension (`.npz`/`.json` are added).
    - `tree`: a pytree whose leaves are arrays or Python scalars. Dicts with string keys, lists,
      tuples and `None` are recorded in the JSON and rebuilt by `load_checkpoint` alone; other
      nodes (equinox modules, named tuples) need `like=` when loading.
    - `metadata`: a JSON-serializable dict stored alongside (run parameters, step counts).
    """
    npz_path, json_path = _paths(path)
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    structure = _encode(tree, [])
    arrays, info = {}, []
    for k, leaf in enumerate(leaves):
        entry = {}
        if _is_key(leaf):
            entry["key_impl"] = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        a = np.asarray(leaf)
        if a.dtype == object:
            raise TypeError(f"save_checkpoint: leaf {k} is not an array of numbers: {type(leaf)}")
        entry.update(shape=list(a.shape), dtype=a.dtype.str)
        arrays[f"leaf_{k:06d}"] = a
        info.append(entry)

    digest = hashlib.sha256()

    def write_npz(f):
        np.savez(f, **arrays)

    _atomic_write(npz_path, write_npz)
    with open(npz_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    sidecar = {
        "format": FORMAT,
        "npz": npz_path.name,
        "sha256": digest.hexdigest(),
        "treedef": str(treedef),
        "structure": structure,
        "leaves": info,
        "metadata": metadata or {},
    }
    text = json.dumps(sidecar, indent=1, sort_keys=True).encode()
    _atomic_write(json_path, lambda f: f.write(text))


def read_checkpoint_metadata(path) -> dict:
    """The `metadata` dict stored with the checkpoint at `path` (reads only the JSON sidecar)."""
    return _read_sidecar(path)["metadata"]


def read_run_checkpoint_metadata(path, run: dict, who: str) -> dict:
    """The metadata of the checkpoint at `path`, after checking that it was written by the same
    run: its `metadata["run"]` must equal `run` (JSON-comparable), else `CheckpointError` names
    `who`, the folder and both descriptions, so that a resume never mixes two runs."""
    stored = read_checkpoint_metadata(path)
    if stored.get("run") != run:
        raise CheckpointError(
            f"{who}: {Path(path).parent} holds a checkpoint of a different run "
            f"(stored {stored.get('run')}, now {run}); use a fresh folder or the same parameters"
        )
    return stored


def _read_sidecar(path) -> dict:
    _, json_path = _paths(path)
    if not json_path.exists():
        raise CheckpointError(f"no checkpoint at {json_path}")
    sidecar = json.loads(json_path.read_text())
    if sidecar.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not a {FORMAT} file")
    return sidecar


def checkpoint_exists(path) -> bool:
    """Whether a complete checkpoint (sidecar written) exists at `path`."""
    return _paths(path)[1].exists()


def load_checkpoint(path, like=None):
    """Load a checkpoint written by `save_checkpoint`, checking its integrity.

    **Arguments:**

    - `path`: the checkpoint's path without extension.
    - `like`: optional pytree with the structure to rebuild (needed for custom pytree nodes such as
      equinox modules); its leaves' shapes and dtypes must match the stored ones. Its leaves are
      only used as a template.

    **Returns:**

    `(tree, metadata)`: the pytree (leaves as numpy arrays, PRNG keys as JAX keys) and the metadata
    dict.

    **Raises:**

    `CheckpointError` if the files are missing, the `.npz` does not match the checksum in the
    sidecar, or `like` does not match the stored structure.
    """
    npz_path, json_path = _paths(path)
    sidecar = _read_sidecar(path)
    digest = hashlib.sha256()
    with open(npz_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sidecar["sha256"]:
        raise CheckpointError(f"{npz_path} does not match the checksum in {json_path}")
    info = sidecar["leaves"]
    with np.load(npz_path, allow_pickle=False) as data:
        leaves = []
        for k, entry in enumerate(info):
            a = data[f"leaf_{k:06d}"]
            if list(a.shape) != entry["shape"] or a.dtype.str != entry["dtype"]:
                raise CheckpointError(f"{npz_path}: leaf {k} does not match its description")
            if "key_impl" in entry:
                a = jax.random.wrap_key_data(a, impl=entry["key_impl"])
            leaves.append(a)
    if like is not None:
        like_leaves, treedef = jax.tree_util.tree_flatten(like)
        if len(like_leaves) != len(leaves):
            raise CheckpointError(
                f"load_checkpoint: `like` has {len(like_leaves)} leaves, the checkpoint "
                f"{len(leaves)} (stored structure: {sidecar['treedef']})"
            )
        for k, (a, b) in enumerate(zip(leaves, like_leaves, strict=True)):
            if _is_key(b):
                b = jax.random.key_data(b)
                a = jax.random.key_data(a) if _is_key(a) else a
            if tuple(np.shape(a)) != tuple(np.shape(b)):
                raise CheckpointError(
                    f"load_checkpoint: leaf {k} has shape {np.shape(a)} in the checkpoint and "
                    f"{np.shape(b)} in `like`"
                )
        return jax.tree_util.tree_unflatten(treedef, leaves), sidecar["metadata"]
    structure = sidecar["structure"]
    if _has_opaque(structure):
        _decode({"t": "opaque"}, leaves)  # raises with the message to pass `like=`
    return _decode(structure, leaves), sidecar["metadata"]
