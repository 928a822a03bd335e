"""Checkpoints of pytrees of arrays that survive a kill at any instant: a content-addressed `.npz`
of the arrays and a JSON sidecar that names it, holds the rest and carries its own checksum. No
pickle."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

FORMAT = "diffsci-checkpoint-2"
#: formats `load_checkpoint` reads: version 1 (a fixed `<path>.npz`, no sidecar checksum) too
_READABLE = ("diffsci-checkpoint-1", FORMAT)


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, corrupted or does not match what was expected."""


def _check_path(path, who: str) -> None:
    """`path` must be a `str` or an `os.PathLike` (`TypeError` naming `who` otherwise)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{who}: expected `path` to be a path (str or pathlib.Path), got "
            f"{type(path).__name__} {path!r}"
        )


def _base(path) -> Path:
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path


def _sidecar_path(path) -> Path:
    base = _base(path)
    return base.with_name(base.name + ".json")


def _data_name(base: Path, digest: str) -> str:
    """The data file of a checkpoint, named by its content: a new save never overwrites the data
    file that the current sidecar names."""
    return f"{base.name}.{digest[:16]}.npz"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_temporary(target: Path, write) -> Path:
    """Write through `write(fileobj)` into a new temporary file next to `target`, synced to disk;
    return its path (the caller renames it)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sidecar_digest(sidecar: dict) -> str:
    """The checksum of the sidecar's content (every field but the checksum itself)."""
    body = {k: v for k, v in sidecar.items() if k != "sidecar_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _remove_stale(base: Path, keep: str | None) -> None:
    """Remove this checkpoint's data files other than `keep` and its leftover temporary files
    (from a save that was killed or failed)."""
    data = re.compile(re.escape(base.name) + r"(\.[0-9a-f]{16})?\.npz")
    temporary = (f".{base.name}.npz.", f".{base.name}.json.")
    for entry in base.parent.iterdir():
        name = entry.name
        stale_data = data.fullmatch(name) is not None and name != keep
        stale_tmp = name.startswith(temporary) and name.endswith(".tmp")
        if stale_data or stale_tmp:
            try:
                entry.unlink()
            except FileNotFoundError:  # pragma: no cover - removed by someone else meanwhile
                pass


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


def _encode_like(tree) -> Any:
    """The structure of a `like` template in the terms of `_encode`: any pytree leaf (an array,
    a scalar, a `jax.ShapeDtypeStruct`) is a leaf."""
    if tree is None:
        return {"t": "none"}
    if isinstance(tree, dict) and all(isinstance(k, str) for k in tree):
        keys = sorted(tree)
        return {"t": "dict", "k": keys, "c": [_encode_like(tree[k]) for k in keys]}
    if type(tree) in (list, tuple):
        return {"t": type(tree).__name__, "c": [_encode_like(c) for c in tree]}
    leaves = jax.tree_util.tree_leaves(tree)
    if len(leaves) == 1 and leaves[0] is tree:
        return {"t": "leaf"}
    return {"t": "opaque"}


def _same_shape_of_tree(a, b) -> bool:
    """Structures from `_encode`, equal up to list/tuple (both sequences of the same length)."""
    kind_a = "seq" if a["t"] in ("list", "tuple") else a["t"]
    kind_b = "seq" if b["t"] in ("list", "tuple") else b["t"]
    if kind_a != kind_b or a.get("k") != b.get("k"):
        return False
    ca, cb = a.get("c", []), b.get("c", [])
    return len(ca) == len(cb) and all(
        _same_shape_of_tree(x, y) for x, y in zip(ca, cb, strict=True)
    )


_CUSTOM_NODE = re.compile(r"CustomNode\(([^\[\]()]+)\[")


def _check_like_structure(like, treedef, sidecar, json_path) -> None:
    """`like` must have the stored structure: the same dict keys, sequence lengths and `None`s
    (from the sidecar's JSON structure) and, where the tree holds custom nodes (equinox modules,
    named tuples), the same node types in the same order (from the stored treedef)."""
    stored = sidecar.get("structure")
    if stored is None:  # pragma: no cover - every readable format stores it
        return
    mismatch = not _same_shape_of_tree(stored, _encode_like(like))
    if not mismatch and _has_opaque(stored):
        mismatch = _CUSTOM_NODE.findall(str(sidecar.get("treedef", ""))) != _CUSTOM_NODE.findall(
            str(treedef)
        )
    if mismatch:
        raise CheckpointError(
            f"load_checkpoint: `like` does not have the structure of the checkpoint {json_path} "
            f"(stored {sidecar.get('treedef')}, `like` {treedef}): its leaves would be loaded "
            "under other names; pass a `like` built the way the saved tree was"
        )


def save_checkpoint(path, tree, metadata: dict | None = None) -> None:
    """Save a pytree of arrays so that a kill at any instant leaves a loadable checkpoint.

    The arrays go to a data file named by its content, `<path>.<sha256 prefix>.npz`, and
    everything else (the tree structure, dtypes and shapes, `metadata`, the data file's name and
    SHA-256) to the sidecar `<path>.json`, which carries a SHA-256 of its own content. The order
    of the writes makes the sidecar's rename the one instant at which the new checkpoint replaces
    the old:

    1. `metadata` and the leaves are validated (nothing is written if they are not storable);
    2. the data file is written to a temporary file, synced, and renamed to its content name
       (a new file: the old checkpoint's data file is untouched);
    3. the sidecar is written to a temporary file, synced, and renamed over `<path>.json`
       (`os.replace`, atomic on POSIX);
    4. the old data file and any temporary files left by an earlier killed save are removed.

    Killed before step 3 completes, the folder holds the old checkpoint intact (plus files that
    the next save removes); after it, the new one. No pickle is involved: the arrays are stored
    with `numpy.savez`; JAX PRNG keys as their key data, restored on loading.

    **Arguments:**

    - `path`: the checkpoint's path without extension.
    - `tree`: a pytree whose leaves are arrays or Python scalars. Dicts with string keys, lists,
      tuples and `None` are recorded in the JSON and rebuilt by `load_checkpoint` alone; other
      nodes (equinox modules, named tuples) need `like=` when loading.
    - `metadata`: a JSON-serializable dict stored alongside (run parameters, step counts).

    **Raises:**

    `TypeError` for a `path` that is not a path, a leaf that is not an array of numbers (bool,
    integer, float, complex, or a PRNG key) or metadata that JSON cannot hold, before anything is
    written.
    """
    _check_path(path, "save_checkpoint")
    base = _base(path)
    json_path = _sidecar_path(path)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"save_checkpoint: `metadata` must be a dict, got {type(metadata)}")
    try:
        metadata = json.loads(json.dumps(metadata or {}, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"save_checkpoint: `metadata` must hold only JSON values (str, int, finite float, "
            f"bool, None, lists and dicts of them): {err}; nothing was written"
        ) from None
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    structure = _encode(tree, [])
    arrays, info = {}, []
    for k, leaf in enumerate(leaves):
        entry = {}
        if _is_key(leaf):
            entry["key_impl"] = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        try:
            a = np.asarray(leaf)
        except (TypeError, ValueError):  # e.g. a ragged list
            a = np.empty((), object)
        if a.dtype.kind not in "biufc":
            raise TypeError(
                f"save_checkpoint: leaf {k} is not an array of numbers: {type(leaf).__name__} "
                f"(dtype {a.dtype}); store strings and other values in `metadata`"
            )
        entry.update(shape=list(a.shape), dtype=a.dtype.str)
        arrays[f"leaf_{k:06d}"] = a
        info.append(entry)

    base.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temporary(base.with_name(base.name + ".npz"), lambda f: np.savez(f, **arrays))
    try:
        digest = _sha256_file(tmp)
        data_name = _data_name(base, digest)
        os.replace(tmp, base.with_name(data_name))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sidecar = {
        "format": FORMAT,
        "npz": data_name,
        "sha256": digest,
        "treedef": str(treedef),
        "structure": structure,
        "leaves": info,
        "metadata": metadata,
    }
    sidecar["sidecar_sha256"] = _sidecar_digest(sidecar)
    text = json.dumps(sidecar, indent=1, sort_keys=True).encode()
    tmp = _write_temporary(json_path, lambda f: f.write(text))
    try:
        os.replace(tmp, json_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(base.parent)
    _remove_stale(base, keep=data_name)


def read_checkpoint_metadata(path) -> dict:
    """The `metadata` dict stored with the checkpoint at `path` (reads only the JSON sidecar).

    Raises `TypeError` if `path` is not a path, `CheckpointError` if there is no checkpoint or
    its sidecar is damaged."""
    _check_path(path, "read_checkpoint_metadata")
    return _read_sidecar(path)["metadata"]


def read_run_checkpoint_metadata(path, run: dict, who: str) -> dict:
    """The metadata of the checkpoint at `path`, after checking that it was written by the same
    run: its `metadata["run"]` must equal `run` (JSON-comparable), else `CheckpointError` names
    `who`, the folder and both descriptions, so that a resume never mixes two runs.

    Checks: `path` is a path, `run` a dict, `who` a string (`TypeError`)."""
    _check_path(path, "read_run_checkpoint_metadata")
    if not isinstance(run, dict):
        raise TypeError(
            f"read_run_checkpoint_metadata: expected `run` to be a dict describing the run, got "
            f"{type(run).__name__}"
        )
    if not isinstance(who, str):
        raise TypeError(
            f"read_run_checkpoint_metadata: expected `who` to be the name of the caller (a str), "
            f"got {type(who).__name__}"
        )
    stored = _read_sidecar(path)["metadata"]
    if stored.get("run") != run:
        raise CheckpointError(
            f"{who}: {Path(path).parent} holds a checkpoint of a different run "
            f"(stored {stored.get('run')}, now {run}); use a fresh folder or the same parameters"
        )
    return stored


_DAMAGED = (
    "delete this checkpoint's files ({base}.json and {base}.*.npz) to start the run over, or "
    "restore them from a copy"
)


def _read_sidecar(path) -> dict:
    """The sidecar at `path`, checked: JSON, a known format, its own checksum (format 2)."""
    json_path = _sidecar_path(path)
    damaged = _DAMAGED.format(base=_base(path))
    if not json_path.exists():
        raise CheckpointError(f"no checkpoint at {json_path}")
    try:
        sidecar = json.loads(json_path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(
            f"the checkpoint sidecar {json_path} is damaged (not valid JSON: {err}); {damaged}"
        ) from None
    if not isinstance(sidecar, dict) or sidecar.get("format") not in _READABLE:
        raise CheckpointError(
            f"{json_path} is not a diffsci checkpoint (format {_READABLE}); {damaged}"
        )
    if sidecar["format"] != "diffsci-checkpoint-1" and sidecar.get(
        "sidecar_sha256"
    ) != _sidecar_digest(sidecar):
        raise CheckpointError(
            f"the checkpoint sidecar {json_path} does not match its own checksum: it was edited "
            f"or damaged after it was written; {damaged}"
        )
    name, base = sidecar.get("npz"), _base(path).name
    own = isinstance(name, str) and (
        name == f"{base}.npz" or re.fullmatch(re.escape(base) + r"\.[0-9a-f]{16}\.npz", name)
    )
    if not own:
        raise CheckpointError(
            f"{json_path} names the data file {name!r}, which is not this checkpoint's (a sidecar "
            f"copied from another checkpoint?); {damaged}"
        )
    return sidecar


def checkpoint_exists(path) -> bool:
    """Whether a complete checkpoint (sidecar written) exists at `path` (`TypeError` if `path` is
    not a `str` or `os.PathLike`)."""
    _check_path(path, "checkpoint_exists")
    return _sidecar_path(path).exists()


def load_checkpoint(path, like=None) -> tuple[Any, Any]:
    """Load a checkpoint written by `save_checkpoint`, checking its integrity.

    **Arguments:**

    - `path`: the checkpoint's path without extension.
    - `like`: optional pytree with the structure to rebuild (needed for custom pytree nodes such as
      equinox modules); its structure (dict keys, list and tuple lengths, `None`s, the types of
      custom nodes) and its array leaves' shapes and dtypes must match the stored ones, so a
      checkpoint is never loaded into another tree with leaves of the same shapes. Its leaves are
      only used as a template (a Python scalar leaf matches any dtype).

    **Returns:**

    `(tree, metadata)`: the pytree (leaves as numpy arrays, PRNG keys as JAX keys) and the metadata
    dict.

    **Raises:**

    `CheckpointError`, naming the file and what to do, if the sidecar is missing, is not JSON or
    does not match its own checksum (edited or damaged), if the data file it names is missing or
    does not match its checksum, or if `like` does not match the stored structure. Checkpoints
    of the earlier format (`<path>.npz` and a sidecar without its own checksum) still load.
    `TypeError` if `path` is not a path.
    """
    _check_path(path, "load_checkpoint")
    json_path = _sidecar_path(path)
    sidecar = _read_sidecar(path)
    npz_path = json_path.with_name(sidecar["npz"])
    damaged = _DAMAGED.format(base=_base(path))
    if not npz_path.exists():
        raise CheckpointError(
            f"the data file {npz_path} that {json_path} names is missing; {damaged}"
        )
    if _sha256_file(npz_path) != sidecar["sha256"]:
        raise CheckpointError(
            f"{npz_path} does not match the checksum in {json_path} (damaged or replaced); "
            f"{damaged}"
        )
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
        _check_like_structure(like, treedef, sidecar, json_path)
        for k, (a, b) in enumerate(zip(leaves, like_leaves, strict=True)):
            if _is_key(b):
                b = jax.random.key_data(b)
                a = jax.random.key_data(a) if _is_key(a) else a
            if tuple(np.shape(a)) != tuple(np.shape(b)):
                raise CheckpointError(
                    f"load_checkpoint: leaf {k} has shape {np.shape(a)} in the checkpoint and "
                    f"{np.shape(b)} in `like`"
                )
            if isinstance(b, jax.Array | np.ndarray | np.generic) and np.dtype(
                np.asarray(a).dtype
            ) != np.dtype(b.dtype):
                raise CheckpointError(
                    f"load_checkpoint: leaf {k} has dtype {np.asarray(a).dtype} in the checkpoint "
                    f"and {b.dtype} in `like`"
                )
        return jax.tree_util.tree_unflatten(treedef, leaves), sidecar["metadata"]
    structure = sidecar["structure"]
    if _has_opaque(structure):
        _decode({"t": "opaque"}, leaves)  # raises with the message to pass `like=`
    return _decode(structure, leaves), sidecar["metadata"]
