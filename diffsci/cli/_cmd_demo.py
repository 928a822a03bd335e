"""``python -m diffsci demo``: the flagship computations, quickly.

1. Degenerate spectra: the gradient of a thermal expectation value on a 6x6 periodic
   tight-binding lattice (exactly degenerate levels) through ``jnp.linalg.eigh`` (NaN, or 15% off
   when 1/(λi-λj) is masked) and through ``diffsci.linalg.funm`` (exact), against central finite
   differences.
2. The 2D Ising model through HOTRG: ln Z, energy and specific heat as first and second
   derivatives in β, against Onsager's exact solution (the ``ising`` subcommand, at a small χ),
   when ``diffsci.tn`` is installed.
"""

from __future__ import annotations

import importlib

from ._common import add_output_argument, enable_x64

NAME = "demo"
HELP = "run the flagship computations: degenerate eigh gradients, then the 2D Ising model by HOTRG"


def add_arguments(parser):
    add_output_argument(parser, "runs/demo")
    parser.add_argument("--beta", type=float, default=2.0, help="inverse temperature (default 2)")
    parser.add_argument(
        "--skip-ising", action="store_true", help="run only the degenerate-spectrum part"
    )


def degenerate_thermal_gradient(beta: float = 2.0, side: int = 6):
    """Gradient of a thermal density average w.r.t. the on-site potentials of a periodic lattice.

    The observable is Σ_i w_i ρ_ii / tr ρ with ρ = e^{-βH} and fixed weights w_i, at zero
    on-site potentials, where the levels of the periodic square lattice are exactly degenerate.

    Returns the relative errors (against central finite differences of the forward value) of the
    gradient through `jnp.linalg.eigh`, through `jnp.linalg.eigh` with 1/(λi-λj) masked at ties,
    and through `diffsci.linalg.funm`.
    """
    import jax
    import jax.numpy as jnp

    import diffsci.linalg as dla
    from diffsci.physics import square_lattice

    lattice = square_lattice(side, periodic=True)
    n = lattice.num_sites
    weights = jnp.linspace(0.5, 1.5, n)

    def observable(rho):
        return jnp.dot(weights, jnp.diag(rho)) / jnp.trace(rho)

    def through_diffsci(eps):
        h = lattice.hamiltonian(eps)
        return observable(dla.funm(h, lambda w: jnp.exp(-beta * w)))

    def through_jax(eps):
        w, v = jnp.linalg.eigh(lattice.hamiltonian(eps))
        return observable((v * jnp.exp(-beta * w)[None, :]) @ v.T)

    @jax.custom_vjp
    def masked_eigh(h):
        return jnp.linalg.eigh(h)

    def masked_fwd(h):
        w, v = jnp.linalg.eigh(h)
        return (w, v), (w, v)

    def masked_bwd(res, cts):
        # What PyTorch/TensorFlow-style codes do: drop 1/(λi-λj) where λi = λj.
        w, v = res
        gw, gv = cts
        diff = w[None, :] - w[:, None]
        tie = jnp.abs(diff) < 1e-9
        f = jnp.where(tie, 0.0, 1.0 / jnp.where(tie, 1.0, diff))
        vtg = v.T @ gv
        inner = jnp.diag(gw) + f * (vtg - vtg.T) / 2
        return (v @ inner @ v.T,)

    masked_eigh.defvjp(masked_fwd, masked_bwd)

    def through_masked(eps):
        w, v = masked_eigh(lattice.hamiltonian(eps))
        return observable((v * jnp.exp(-beta * w)[None, :]) @ v.T)

    eps0 = jnp.zeros(n)
    step = 1e-5
    basis = jnp.eye(n)
    fd = jax.vmap(
        lambda e: (through_diffsci(eps0 + step * e) - through_diffsci(eps0 - step * e)) / (2 * step)
    )(basis)

    def rel(g):
        return float(jnp.linalg.norm(g - fd) / jnp.linalg.norm(fd))

    return {
        "jnp.linalg.eigh": rel(jax.grad(through_jax)(eps0)),
        "eigh, 1/(λi-λj) masked": rel(jax.grad(through_masked)(eps0)),
        "diffsci.linalg.funm": rel(jax.grad(through_diffsci)(eps0)),
    }


def run(args):
    enable_x64()
    print("== 1. Gradients at a degenerate spectrum")
    print(
        "   d<n>/d(on-site potentials) at beta = "
        f"{args.beta:g} on a 6x6 periodic tight-binding lattice (levels 4-fold degenerate)"
    )
    errors = degenerate_thermal_gradient(args.beta)
    for name, err in errors.items():
        shown = "NaN" if err != err else f"{err:.2e}"
        print(f"   {name:28s} relative error vs finite differences: {shown}")
    if args.skip_ising:
        return 0
    try:
        ising = importlib.import_module("diffsci.cli._cmd_ising")
    except ModuleNotFoundError:
        return 0
    print("\n== 2. The 2D Ising model through HOTRG")
    from ._main import build_parser

    ising_args = build_parser().parse_args(["ising", "--out", args.out, *ising.DEMO_ARGS])
    return ising.run(ising_args)
