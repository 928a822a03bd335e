"""Batch-axis sharding over all devices (chains, starts, samples)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

BATCH_AXIS = "batch"


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-dimensional `jax.sharding.Mesh` over `devices` (default: all), axis name `"batch"`."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.asarray(devices), (BATCH_AXIS,))


def batch_sharding(mesh: Mesh | None = None) -> NamedSharding:
    """A `NamedSharding` that splits the leading (batch) axis over the mesh and replicates the rest.

    **Arguments:**

    - `mesh`: a mesh with an axis named `"batch"` (default: [`diffsci.utils.batch_mesh`][] over
      all devices).
    """
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

    `ValueError` if a leaf's batch size is not a multiple of the number of devices.
    """
    sharding = batch_sharding() if sharding is None else sharding
    n_dev = sharding.mesh.shape[BATCH_AXIS]

    def put(x):
        if np.ndim(x) == 0 or np.shape(x)[0] % n_dev:
            raise ValueError(
                f"shard_batch: a batch of size {np.shape(x)[:1]} cannot be split over {n_dev} "
                f"devices; use a multiple of {n_dev}"
            )
        return jax.device_put(x, sharding)

    return jax.tree_util.tree_map(put, tree)
