"""Chains and starts sharded over 8 (forced host) devices give the single-device results.

XLA_FLAGS=--xla_force_host_platform_device_count=8 must be set before JAX initializes, and the
other tests of this pytest process have initialized it already, so the checks run in a fresh
Python subprocess.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import diffsci.physics as dp
    from diffsci.utils import batch_sharding, shard_batch

    assert jax.device_count() == 8, jax.devices()
    sharding = batch_sharding()
    beta_c = np.log(1 + np.sqrt(2)) / 2
    key = jax.random.key(0)

    def compare(sampler, x0, observable=None, steps=30):
        one = dp.sample(sampler, x0, key=key, steps=steps, observable=observable)
        many = dp.sample(sampler, x0, key=key, steps=steps, observable=observable,
                         sharding=sharding)
        assert len(many.state.x.sharding.device_set) == 8, many.state.x.sharding
        assert len(one.state.x.sharding.device_set) == 1
        for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(many), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    spins = jnp.ones((16, 16))
    compare(dp.Wolff(4, beta_c), spins)
    compare(dp.IsingMetropolis(dp.square_lattice_couplings(4), beta_c), spins)
    positions = jax.random.normal(jax.random.key(1), (16, 3, 2))
    compare(dp.HMC(dp.coulomb_energy, 1.0, 0.1, 4), positions, dp.coulomb_virial)
    compare(dp.Metropolis(dp.coulomb_energy, 1.0, 0.3), positions, dp.coulomb_virial)

    one = dp.coulomb_ground_state(5, 2, key=key, starts=16)
    many = dp.coulomb_ground_state(5, 2, key=key, starts=16, sharding=sharding)
    np.testing.assert_array_equal(np.asarray(one.energies), np.asarray(many.energies))
    np.testing.assert_array_equal(np.asarray(one.positions), np.asarray(many.positions))

    try:
        shard_batch(jnp.ones((12, 3)))
    except ValueError as err:
        assert "multiple of 8" in str(err)
    else:
        raise AssertionError("a batch of 12 over 8 devices must be refused")
    print("SHARDING-OK")
    """
)


def test_sharded_runs_equal_single_device_runs():
    env = dict(os.environ)
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "SHARDING-OK" in proc.stdout
