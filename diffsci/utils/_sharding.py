"""Batch-axis sharding over all devices (chains, starts, samples)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from diffsci._internal._validate import fail

BATCH_AXIS = "batch"


def batch_mesh(
    # `jax.Device` is an alias of a class of the compiled jaxlib, which has no type stubs
    devices: Sequence[jax.Device] | None = None,  # pyright: ignore[reportInvalidTypeForm]
) -> Mesh:
    """A one-dimensional `jax.sharding.Mesh` over `devices` (default: all), axis name `"batch"`.

    Checks: `devices` is `None` or a non-empty sequence of distinct `jax.Device`s."""
    who = "batch_mesh"
    if devices is None:
        devices = jax.devices()
    else:
        if isinstance(devices, str) or not isinstance(devices, Sequence | np.ndarray):
            fail(
                who,
                "devices",
                "to be a sequence of jax.Device (e.g. jax.devices()) or None",
                devices,
                TypeError,
            )
        devices = list(devices)
        if not devices:
            fail(who, "devices", "to hold at least one device", "an empty sequence", described=True)
        bad = [d for d in devices if not isinstance(d, jax.Device)]
        if bad:
            fail(
                who, "devices", "to hold jax.Device objects (e.g. jax.devices())", bad[0], TypeError
            )
        if len(set(devices)) != len(devices):
            fail(
                who, "devices", "to hold distinct devices", "a device listed twice", described=True
            )
    return Mesh(np.asarray(devices), (BATCH_AXIS,))


def _check_mesh(mesh, who: str) -> None:
    if not isinstance(mesh, Mesh):
        fail(who, "mesh", "to be a jax.sharding.Mesh (e.g. batch_mesh())", mesh, TypeError)
    if BATCH_AXIS not in mesh.axis_names:
        fail(
            who,
            "mesh",
            f"to have an axis named {BATCH_AXIS!r}",
            f"a mesh with axes {mesh.axis_names}",
            described=True,
        )


def batch_sharding(mesh: Mesh | None = None) -> NamedSharding:
    """A `NamedSharding` that splits the leading (batch) axis over the mesh and replicates the rest.

    **Arguments:**

    - `mesh`: a mesh with an axis named `"batch"` (default: [`diffsci.utils.batch_mesh`][] over
      all devices).

    Checks: `mesh` is a `jax.sharding.Mesh` with a `"batch"` axis.
    """
    if mesh is not None:
        _check_mesh(mesh, "batch_sharding")
    return NamedSharding(batch_mesh() if mesh is None else mesh, PartitionSpec(BATCH_AXIS))


def shard_batch(tree, sharding: NamedSharding | None = None):
    """Place every array leaf of `tree` with its leading axis split over the devices.

    Computations on sharded inputs under `jax.jit` (vmapped over the batch axis) then run in
    parallel on all devices, with the same results as on one device: per-element randomness must
    come from keys split per element (the samplers do so), never from the sharding.

    **Arguments:**

    - `tree`: a pytree of arrays that all have the same leading (batch) size.
    - `sharding`: default [`diffsci.utils.batch_sharding`][]`()`.

    **Returns:**

    The same pytree, placed on the devices.

    **Raises:**

    `ValueError` if a leaf has no leading axis or its batch size is not a multiple of the number
    of devices; `TypeError` if `sharding` is not a `NamedSharding` over a mesh with a `"batch"`
    axis.
    """
    who = "shard_batch"
    if sharding is None:
        sharding = batch_sharding()
    elif not isinstance(sharding, NamedSharding):
        fail(
            who,
            "sharding",
            "to be a jax.sharding.NamedSharding (e.g. batch_sharding())",
            sharding,
            TypeError,
        )
    elif BATCH_AXIS not in sharding.mesh.axis_names:
        fail(
            who,
            "sharding",
            f"to be over a mesh with an axis named {BATCH_AXIS!r}",
            f"a mesh with axes {sharding.mesh.axis_names}",
            TypeError,
            described=True,
        )
    n_dev = sharding.mesh.shape[BATCH_AXIS]

    def put(x):
        if np.ndim(x) == 0:
            fail(
                who,
                "tree",
                "to have leaves with a leading batch axis",
                f"a leaf of shape {np.shape(x)}",
                described=True,
            )
        if np.shape(x)[0] % n_dev:
            raise ValueError(
                f"shard_batch: a batch of size {np.shape(x)[:1]} cannot be split over {n_dev} "
                f"devices; use a multiple of {n_dev}"
            )
        return jax.device_put(x, sharding)

    return jax.tree_util.tree_map(put, tree)
