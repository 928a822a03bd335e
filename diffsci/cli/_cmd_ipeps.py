"""``python -m diffsci ipeps``: variational iPEPS ground state of the 2D Heisenberg model (or the
transverse-field Ising model) by L-BFGS through CTMRG environments.

One real tensor A[s, u, l, d, r] on every site, symmetric under the C4v point group; the energy
per site comes from the two-site reduced density matrix in the CTMRG environment and its gradient
from the fixed-point equation of CTMRG. The result is compared with the quantum Monte Carlo value
(Sandvik 1997) and with the published iPEPS energy at the same bond dimension.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from ._common import add_output_argument, enable_x64, output_dir

NAME = "ipeps"
HELP = (
    "variational iPEPS ground state of the 2D Heisenberg antiferromagnet (or the transverse-field "
    "Ising model) by L-BFGS through CTMRG, against QMC and published iPEPS energies"
)

_DEFAULT_CHI = {1: 1, 2: 12, 3: 27, 4: 36}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bond-dim",
        "--d",
        dest="d",
        type=int,
        default=2,
        metavar="D",
        help="virtual bond dimension D (default: 2)",
    )
    parser.add_argument(
        "--chi",
        type=int,
        default=None,
        help="CTMRG environment dimension (default: 12, 27, 36 for D = 2, 3, 4; 8 D above)",
    )
    parser.add_argument(
        "--steps", type=int, default=60, help="L-BFGS iterations at most (default: 60)"
    )
    parser.add_argument(
        "--model",
        choices=("heisenberg", "tfim"),
        default="heisenberg",
        help="heisenberg (default) or tfim: H = -sum ZZ - g sum X (g: --field)",
    )
    parser.add_argument(
        "--field",
        "--g",
        dest="g",
        type=float,
        default=3.0,
        metavar="G",
        help="tfim: transverse field g (default 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial noise")
    parser.add_argument(
        "--init",
        default="neel",
        help="Heisenberg start: neel (default; Neel state plus noise), random (a C4v-symmetrized "
        "Gaussian tensor drawn with --seed; different seeds reach different minima), smaller "
        "(the optimum at "
        "D-1, found the same way down to D=2, padded to D plus noise), published (the published "
        "state at D plus noise), or a .npy file with a site tensor of bond dimension <= D (e.g. "
        "the tensor.npy of an earlier run), padded to D plus noise",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=1e-2,
        help="scale of the initial noise, relative to the norm of the start (default 1e-2)",
    )
    parser.add_argument(
        "--lbfgs-memory",
        type=int,
        default=10,
        help="L-BFGS history length (default 10; the D = 3 runs of docs/ipeps.md used 50)",
    )
    parser.add_argument(
        "--patch",
        choices=("bond", "plaquette"),
        default="bond",
        help="network around a bond for the energy: bond (default, 4x3 sites of environment) or "
        "plaquette (a pair of the 2x2 plaquette, the estimator of the published energies; "
        "closer to the converged value at the same chi; either costs little next to CTMRG)",
    )
    parser.add_argument(
        "--ctmrg-tol", type=float, default=None, help="CTMRG convergence tolerance (its default)"
    )
    parser.add_argument(
        "--ctmrg-steps", type=int, default=None, help="CTMRG iterations at most (its default)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint in --out (same D, chi, model) instead of starting over",
    )
    add_output_argument(parser, "runs/ipeps")


def _heisenberg_start(args, chi, key, out):
    """The initial tensor of the Heisenberg run from --init (see add_arguments), built by the
    library's `heisenberg_start` (the `init` of `heisenberg_ipeps`)."""
    from pathlib import Path

    import jax.numpy as jnp
    import numpy as np

    from diffsci.physics._ipeps import heisenberg_start

    init = args.init
    if init == "smaller":
        if args.d >= 3:
            print(f"warm start: optimizing D={args.d - 1} first (chi={chi})", flush=True)
    elif init.endswith(".npy"):
        path = Path(init)
        if not path.exists():
            raise SystemExit(f"ipeps: --init {init}: no such file")
        init = jnp.asarray(np.load(path))
        if (
            init.ndim != 5
            or init.shape[0] != 2
            or len(set(init.shape[1:])) != 1
            or init.shape[1] > args.d
        ):
            raise SystemExit(
                f"ipeps: --init {args.init}: expected a site tensor (2, D', D', D', D') with "
                f"D' <= {args.d}, got shape {init.shape}"
            )
    elif init not in ("neel", "random", "published"):
        raise SystemExit(
            f"ipeps: --init must be neel, random, smaller, published or a .npy file, got {init!r}"
        )
    try:  # the library says what is wrong (published D, D of a warm start, ...)
        a = heisenberg_start(
            args.d,
            chi,
            key=key,
            noise=args.noise,
            init=init,
            steps=args.steps,
            memory_size=args.lbfgs_memory,
            checkpoint_dir=out / "checkpoint_smaller",
            progress=True,
            patch=args.patch,
        )
    except ValueError as err:
        raise SystemExit(f"ipeps: --init {args.init}: {err}") from None
    return a if init in ("neel", "random") else a / jnp.linalg.norm(a)


def run(args: argparse.Namespace) -> int:
    enable_x64()
    import jax
    import numpy as np

    import diffsci.physics as physics
    import diffsci.tn as tn
    from diffsci import plot
    from diffsci.utils import RESULTS, result_name

    if args.d < 1:
        raise SystemExit(f"ipeps: --bond-dim must be >= 1, got {args.d}")
    bond_dim: int = args.d
    chi: int = args.chi if args.chi is not None else _DEFAULT_CHI.get(bond_dim, 8 * bond_dim)
    if chi < 1:
        raise SystemExit(f"ipeps: --chi must be >= 1, got {chi}")
    if args.steps < 0:
        raise SystemExit(f"ipeps: --steps must be >= 0, got {args.steps}")
    if args.lbfgs_memory < 1:
        raise SystemExit(f"ipeps: --lbfgs-memory must be >= 1, got {args.lbfgs_memory}")
    out = output_dir(args.out)
    ckpt = out / "checkpoint"
    for folder in (ckpt, out / "checkpoint_smaller"):
        if not args.resume and folder.exists():
            shutil.rmtree(folder)
    key = jax.random.key(args.seed)
    if args.model == "heisenberg":
        h = physics.heisenberg_bond()
        a0 = _heisenberg_start(args, chi, key, out)
        reference = physics.HEISENBERG_IPEPS_REFERENCE.get(args.d)
        qmc = physics.HEISENBERG_QMC_ENERGY
        what = "2D Heisenberg antiferromagnet (sublattice-rotated)"
    else:
        h = physics.tfim_bond(args.g)
        s = min(abs(args.g) / 4.0, 1.0)
        theta = float(np.arcsin(s))
        a0 = physics.ipeps_initial_tensor(
            key, args.d, state=(np.cos(theta / 2), np.sin(theta / 2)), noise=args.noise
        )
        reference, qmc = None, None
        what = f"2D transverse-field Ising model, g = {args.g}"
    print(
        f"{what}: single-site C4v iPEPS D={args.d}, CTMRG chi={chi} ({args.patch} patch), "
        f"L-BFGS up to {args.steps} "
        "iterations; gradients through the CTMRG fixed point",
        flush=True,
    )
    ctmrg_options = {}
    if args.ctmrg_steps is not None:
        ctmrg_options["max_steps"] = args.ctmrg_steps
    if args.ctmrg_tol is not None:
        ctmrg_options["tol"] = args.ctmrg_tol
    result = tn.optimize_ipeps(
        a0,
        h,
        chi,
        steps=args.steps,
        memory_size=args.lbfgs_memory,
        patch=args.patch,
        checkpoint_dir=ckpt,
        progress=True,
        **ctmrg_options,
    )
    e = result.energy
    print(
        f"{result_name(result.result)}: {result.message}; {result.iterations} iterations "
        f"({result.rejected} rejected), {result.seconds:.1f} s"
    )
    print(f"energy per site E = {e:.10f}")
    if args.model == "heisenberg":
        assert qmc is not None  # set for the heisenberg model above
        print(f"  QMC (Sandvik, PRB 56, 11678 (1997)): {qmc:.6f}(5)   E - QMC = {e - qmc:+.2e}")
        if reference is not None:
            print(
                f"  published iPEPS D={args.d} (Hasik, Poilblanc, Becca, SciPost Phys. 10, 012 "
                f"(2021)): {reference:.8f}   E - published = {e - reference:+.2e}"
            )
    else:
        e1 = physics.tfim_product_state_energy(args.g)
        print(f"  best product state (D=1, exact): {e1:.8f}   E - E(D=1) = {e - e1:+.2e}")
    np.savetxt(out / "history.csv", result.history, header="energy per site", comments="")
    np.save(out / "tensor.npy", np.asarray(result.tensor))
    figure = out / "ipeps.png"
    plot.ipeps_history(
        result.history,
        reference=reference,
        qmc=qmc,
        title=f"{what}\niPEPS D={args.d}, chi={chi}: E = {e:.8f}",
        path=figure,
    )
    print(f"wrote {figure}, {out / 'history.csv'} and {out / 'tensor.npy'}")
    failed = (RESULTS.ctmrg_failed, RESULTS.line_search_failed)
    if not np.isfinite(e) or any(bool(result.result == r) for r in failed):
        print(f"ipeps: {result.message}", file=sys.stderr)
        return 1
    return 0
