"""Small long runs of every kind that checkpoints, for the fault-injection tests.

`python _long_runs.py KIND FOLDER [FOLDER ...]` runs the run of kind KIND in each folder in turn
(checkpoints under FOLDER/ckpt; a folder that holds a checkpoint resumes from it) and writes its
result's arrays to FOLDER/result.npz when the run has finished. `progress(KIND, FOLDER)` reads how
far a run has been saved, from the checkpoint's sidecar, while the run goes on in another process.

Every run is small but has several checkpoints, each a fraction of a second apart, so that a kill
at a random instant can fall into a computation, a save or the start-up.
"""

import os
import sys
from pathlib import Path

import numpy as np

# (checkpoint path under the folder, the sidecar's progress counter, the run's total)
KINDS = {
    "run_chunked": ("state", "steps", 12),
    "sample": ("state", "steps", 12),
    "van_train": ("state", "steps", 12),
    "train_variational": ("state", "steps", 12),
    "optimize_ipeps": ("ipeps/state", "steps", 6),
    "ising_sweep": ("sweep", "rows", 8),
}


def progress(kind, folder):
    """How much of the run in `folder` is saved (0 while there is no checkpoint to read)."""
    from diffsci.utils import CheckpointError, read_checkpoint_metadata

    name, counter, _ = KINDS[kind]
    try:
        return int(read_checkpoint_metadata(Path(folder) / "ckpt" / name)[counter])
    except (CheckpointError, KeyError):
        return 0


def _runner(kind):
    """`checkpoint folder -> result` for `kind`; its functions are built once, so that the second
    run in a process finds them traced and compiled."""
    import jax
    import jax.numpy as jnp

    chunks = KINDS[kind][2]
    if kind == "run_chunked":
        from diffsci.utils import run_chunked

        key = jax.random.key(3)

        @jax.jit
        def step(x, i):
            def body(x, t):
                noise = jax.random.normal(jax.random.fold_in(key, t), x.shape)
                x = jnp.tanh(x @ x.T / x.shape[0] + noise)
                return x, jnp.sum(x)

            return jax.lax.scan(body, x, i * 40 + jnp.arange(40))

        return lambda ckpt: run_chunked(
            step, jnp.eye(96), num_chunks=chunks, checkpoint_dir=ckpt, metadata={"seed": 3}
        )
    if kind == "sample":
        import diffsci.physics as dp

        couplings = dp.square_lattice_couplings(8, 8)
        sampler = dp.IsingMetropolis(couplings, 0.44)
        x0 = jnp.ones((16, 64))
        return lambda ckpt: dp.sample(
            sampler,
            x0,
            key=jax.random.key(0),
            steps=chunks * 40,
            chunk_steps=40,
            observable=jnp.sum,
            checkpoint_dir=ckpt,
        )
    if kind == "van_train":
        import diffsci.physics as dp

        couplings = dp.square_lattice_couplings(3, 3)
        model = dp.VAN(9, key=jax.random.key(1), hidden=(16,))
        energy = jax.tree_util.Partial(dp.ising_energy, couplings=couplings)
        return lambda ckpt: dp.van_train(
            energy,
            9,
            0.4,
            key=jax.random.key(0),
            model=model,
            steps=chunks * 5,
            chunk_steps=5,
            batch=128,
            eval_samples=256,
            checkpoint_dir=ckpt,
        )
    if kind == "train_variational":
        from diffsci.flows import MongeAmpereFlow, train_variational

        flow = MongeAmpereFlow(2, key=jax.random.key(0), width=8, steps=8)

        def energy(x):
            return jnp.sum(x**2) / 4.5

        return lambda ckpt: train_variational(
            flow,
            energy,
            1.0,
            key=jax.random.key(1),
            steps=chunks * 5,
            chunk_steps=5,
            batch=128,
            learning_rate=3e-2,
            eval_samples=256,
            checkpoint_dir=ckpt,
        )
    if kind == "optimize_ipeps":
        import diffsci.physics as dp
        import diffsci.tn as tn

        a0 = dp.ipeps_initial_tensor(jax.random.key(0), 2, noise=0.1)
        return lambda ckpt: tn.optimize_ipeps(
            a0,
            dp.heisenberg_bond(),
            4,
            steps=chunks,
            gtol=0.0,
            ftol=0.0,
            checkpoint_dir=ckpt,
            checkpoint_every=1,
        )
    if kind == "ising_sweep":
        from diffsci.physics import ising_rg_thermodynamics as thermodynamics

        temps = np.linspace(1.8, 3.2, chunks)
        return lambda ckpt: thermodynamics(
            temps, chi=4, method="hotrg", steps=6, checkpoint=ckpt / "sweep"
        )
    raise ValueError(f"unknown kind {kind!r}")


def _arrays(result):
    """Every leaf of a result (arrays, numbers, strings) but its wall time."""
    import equinox as eqx
    import jax

    if hasattr(result, "seconds"):
        result = eqx.tree_at(lambda r: r.seconds, result, 0.0)
    if hasattr(result, "stats"):  # the wall time, and where this call resumed, differ
        stats = {k: result.stats[k] for k in ("steps", "rejected")}
        result = eqx.tree_at(lambda r: r.stats, result, stats)
    leaves = jax.tree_util.tree_leaves(result)
    leaves = [leaf for leaf in leaves if eqx.is_array_like(leaf) or isinstance(leaf, str)]
    return {f"leaf{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)}


def main(kind, *folders):
    import jax

    jax.config.update("jax_enable_x64", True)
    cache = os.environ.get("DIFFSCI_TEST_COMPILATION_CACHE")
    if cache:  # the processes of one test compile each program once between them
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    run = _runner(kind)
    for folder in map(Path, folders):
        result = run(folder / "ckpt")
        np.savez(folder / "result.npz", **_arrays(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
