"""Variational free energy of the 4x4 Ising model at beta_c with an autoregressive network.

A VAN (Wu, Wang, Zhang, PRL 122, 080602 (2019)) q(s) = prod_i q(s_i | s_<i) is trained by REINFORCE
to minimize F_q = <E + ln q / beta>_q >= F. Exact enumeration of the 2^16 states gives F itself,
so the gap F_q - F = KL(q || p) / beta is measured, not guessed.

Run:  python examples/van_free_energy.py [--steps 1000]
(`python -m diffsci van` does the same with checkpoints and a figure.)
"""

import argparse

import jax

import diffsci.physics as dp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)

    couplings = dp.square_lattice_couplings(4)
    beta = dp.ISING_BETA_C
    exact = -float(dp.ising_exact(couplings, beta)) / beta

    result = dp.van_train(
        lambda s: dp.ising_energy(s, couplings),
        16,
        beta,
        key=jax.random.key(0),
        model=dp.VAN(16, key=jax.random.key(1), hidden=(32, 32)),
        steps=args.steps,
        batch=512,
        learning_rate=3e-3,
        anneal=0.99,
        chunk_steps=100,
        progress=True,
    )
    est = result.estimate
    print(f"exact F   = {exact:.8f}")
    print(
        f"F_q       = {float(est.variational):.8f} +- {float(est.variational_error):.8f} "
        f"(relative gap {(float(est.variational) - exact) / abs(exact):.1e})"
    )
    print(f"F_IS      = {float(est.importance):.8f}")


if __name__ == "__main__":
    main()
