"""Benchmark of diffsci.tn: TRG and HOTRG for the 2D Ising model at T_c.

For chi = 16, 24, 32 and each method: the time of one ln Z evaluation (a sweep of 30 RG steps,
2^30 sites) and of one gradient d lnZ/d beta (the energy), medians of a few runs after
compilation; the accuracy of ln Z/N and of u = -d lnZ/d beta against Onsager's exact values at
T_c (u(T_c) = -sqrt 2); and, at chi = 16, the gradient against a central finite difference of the
same network. The stock alternative is the same TRG with `jnp.linalg.svd`, whose gradient at T_c
is NaN (degenerate singular values); it is run once alongside, at chi = 16.

iPEPS section (`--ipeps`, or `--only-ipeps`): one energy+gradient evaluation of the
single-site C4v iPEPS of the Heisenberg model (diffsci.tn.ipeps_energy, gradient through the CTMRG
fixed point, CTMRG tol 1e-12) at D = 2, 3 and two chi each, median time after compilation; the
energy of a reference state, its change from chi to ~2 chi and (D = 2) its difference to the
published value; and the gradient against a central finite difference along a random direction
at a point away from the optimum. The stock alternative is jax.grad through the same CTMRG
iterations unrolled (a plain loop of as many steps as the fixed-point forward pass took, plus
one, from the same start): its time and its gradient against the same finite difference. The
reference state at D = 2 is the published state of Hasik, Poilblanc, Becca (SciPost Phys. 10,
012 (2021); E = -0.6602310934799582); at D = 3 the same state padded with 1e-2 noise.

Run: python benchmarks/tn.py [--chis 16 24 32] [--repeats 3] [--out benchmarks/tn.json]
     python benchmarks/tn.py --only-ipeps [--ipeps-cases 2:12 2:24 3:18 3:36]
Single-threaded: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and XLA's CPU thread pools set to 1.
"""

from __future__ import annotations

from _harness import single_threaded  # noqa: E402

single_threaded()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffsci.physics as physics  # noqa: E402
import diffsci.tn as tn  # noqa: E402

STEPS = 30


def _timed(compiled, *args, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    return float(value), statistics.median(times)


def measure(method, chi, repeats, fd_check):
    beta = jnp.asarray(physics.ISING_BETA_C)
    exact = float(physics.onsager_log_z(beta))

    def log_z(b):
        return tn.ising_log_z(b, chi=chi, method=method, steps=STEPS)

    forward = jax.jit(log_z).lower(beta).compile()
    gradient = jax.jit(jax.grad(log_z)).lower(beta).compile()
    value, t_forward = _timed(forward, beta, repeats=repeats)
    slope, t_gradient = _timed(gradient, beta, repeats=repeats)
    row = {
        "method": method,
        "chi": chi,
        "steps": STEPS,
        "sweep_s": t_forward,
        "gradient_s": t_gradient,
        "lnZ_error": abs(value - exact),
        "u_error": abs(-slope + np.sqrt(2.0)),
    }
    if fd_check:
        # At T_c ln Z/N is sharp: a central difference needs a small step (1e-4 is off by 7e-5
        # for HOTRG chi=16, 1e-6 by 1e-8; round-off at 1e-6 is ~1e-10).
        d = 1e-6
        fd = (float(forward(beta + d)) - float(forward(beta - d))) / (2 * d)
        row["grad_vs_fd_rel"] = abs(slope - fd) / abs(fd)
    return row


def stock_trg_gradient(chi):
    """d lnZ/d beta at T_c through the same TRG with jnp.linalg.svd (JAX's own rule)."""

    def log_z(b):
        return tn.trg(tn.ising_tensor(b), chi, STEPS, svd="jax")

    grad = jax.jit(jax.grad(log_z))
    return float(grad(physics.ISING_BETA_C))


# ---------------------------------------------------------------------------------------------
# iPEPS: energy + gradient through the CTMRG fixed point, against unrolled CTMRG


def _ipeps_tensors(bond_dim):
    """(reference state, evaluation point): the published D = 2 Heisenberg state (Hasik,
    Poilblanc, Becca, SciPost Phys. 10, 012 (2021), data set jurajHasik/j1j2_ipeps_states), padded
    with 1e-2 noise for D > 2; and the same with 5e-2 noise, away from the optimum so that the
    gradient is not ~0 (at a stationary point a relative gradient error means nothing)."""
    a = physics.published_ipeps_tensor(2)
    if bond_dim > 2:
        pad = [(0, 0)] + [(0, bond_dim - 2)] * 4
        a = jnp.pad(a, pad) + 1e-2 * jax.random.normal(jax.random.key(7), (2,) + (bond_dim,) * 4)
    a = tn.symmetrize_c4v(a)
    point = a + 5e-2 * jax.random.normal(jax.random.key(8), a.shape, a.dtype)
    return a, tn.symmetrize_c4v(point)


def _normalized(a):
    """`a` over its Frobenius norm (as ipeps_energy normalizes the site tensor)."""
    return a / jnp.sqrt(jnp.sum(a * a))


def _unrolled_energy(a, h, chi, steps):
    """The same energy with the environment from `steps` plain CTMRG steps (no fixed-point rule:
    jax.grad differentiates through every iteration, the stock approach)."""
    a = _normalized(tn.symmetrize_c4v(a))
    # the same start and multiplet-aware truncation as ctmrg's defaults
    env = tn.ctmrg_unrolled(tn.double_layer(a), chi, steps)
    rho = tn.two_site_rdm(a, env)
    return 2.0 * jnp.einsum("abcd,cdab->", rho, h.reshape(rho.shape))


def _median_time(f, *args, repeats):
    jax.block_until_ready(f(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_ipeps(bond_dim, chi, repeats):
    h = physics.heisenberg_bond()
    ref_state, a = _ipeps_tensors(bond_dim)
    tol = 1e-12  # tight, so that finite differences of the energy resolve the derivative

    def energy(x, c=chi):
        return tn.ipeps_energy(x, h, c, tol=tol)

    e_ref = float(jax.jit(energy)(ref_state))
    # the energy at about twice chi: the first of 2 chi, 2 chi + 1, ... whose CTMRG converges
    # (a chi that cuts through a multiplet of the corner spectrum makes CTMRG stall)
    e_ref_next, chi_next = float("nan"), None
    for c in range(2 * chi, 2 * chi + 4):
        value = float(
            jax.jit(lambda x, c=c: tn.ipeps_energy(x, h, c, tol=tol, throw=False))(ref_state)
        )
        if np.isfinite(value):
            e_ref_next, chi_next = value, c
            break
    value_and_grad = jax.jit(jax.value_and_grad(energy))
    t0 = time.perf_counter()
    jax.block_until_ready(value_and_grad(a))
    first = time.perf_counter() - t0
    t_fp = _median_time(value_and_grad, a, repeats=repeats)
    e, g = value_and_grad(a)
    # central finite difference along a random symmetric unit direction
    v = tn.symmetrize_c4v(jax.random.normal(jax.random.key(3), a.shape, a.dtype))
    v = v / jnp.linalg.norm(v)
    f = jax.jit(energy)
    step = 1e-4
    fd = (float(f(a + step * v)) - float(f(a - step * v))) / (2 * step)
    ad = float(jnp.sum(g * v))
    # unrolled: as many plain steps as the fixed-point forward needed to converge, plus one
    an = _normalized(a)
    steps = int(tn.ctmrg(tn.double_layer(an), chi, tol=tol).steps) + 1
    unrolled = jax.jit(jax.value_and_grad(lambda x: _unrolled_energy(x, h, chi, steps)))
    t_un = _median_time(unrolled, a, repeats=repeats)
    eu, gu = unrolled(a)
    return {
        "D": bond_dim,
        "chi": chi,
        "ctmrg_tol": tol,
        "energy_reference_state": e_ref,
        "chi_next": chi_next,
        "energy_change_to_chi_next": e_ref_next - e_ref,
        "energy_minus_published_D2": e_ref - physics.HEISENBERG_IPEPS_REFERENCE[2]
        if bond_dim == 2
        else None,
        "value_and_grad_s": t_fp,
        "first_call_s": first,
        "directional_derivative": ad,
        "grad_vs_fd_rel": abs(ad - fd) / abs(fd),
        "unrolled_steps": steps,
        "unrolled_value_and_grad_s": t_un,
        "time_ratio_fixed_point_over_unrolled": t_fp / t_un,
        "unrolled_grad_deviation_rel": float(jnp.linalg.norm(gu - g) / jnp.linalg.norm(g)),
        "unrolled_grad_vs_fd_rel": abs(float(jnp.sum(gu * v)) - fd) / abs(fd),
        "unrolled_energy_deviation": float(eu - e),
    }


def run_ipeps(cases, repeats, out, rows_so_far):
    print(
        f"{'D':>2} {'chi':>4} {'E(ref)':>14} {'E(2chi)-E':>10} {'E-pub(D2)':>10} {'v+g s':>8} "
        f"{'grad/FD-1':>9} {'unrolled s':>10} {'steps':>5} {'ratio':>6} {'unr/FD-1':>9}",
        flush=True,
    )
    rows = []
    for bond_dim, chi in cases:
        try:
            row = measure_ipeps(bond_dim, chi, repeats)
        except Exception as err:  # a CTMRG that does not converge at this chi: say so, go on
            reason = str(err).strip().splitlines()[0][:200]
            print(f"{bond_dim:>2} {chi:>4} failed: {reason}", flush=True)
            rows.append({"D": bond_dim, "chi": chi, "error": reason})
            continue
        rows.append(row)
        pub = row["energy_minus_published_D2"]
        print(
            f"{bond_dim:>2} {chi:>4} {row['energy_reference_state']:14.10f} "
            f"{row['energy_change_to_chi_next']:10.1e} {'' if pub is None else f'{pub:10.1e}':>10} "
            f"{row['value_and_grad_s']:8.3f} {row['grad_vs_fd_rel']:9.1e} "
            f"{row['unrolled_value_and_grad_s']:10.3f} {row['unrolled_steps']:5d} "
            f"{row['time_ratio_fixed_point_over_unrolled']:6.2f} "
            f"{row['unrolled_grad_vs_fd_rel']:9.1e}",
            flush=True,
        )
        with open(out, "w") as f:
            json.dump({**rows_so_far, "ipeps": rows}, f, indent=1)
    return rows


def _case(text):
    d, chi = text.split(":")
    return int(d), int(chi)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chis", type=int, nargs="+", default=[16, 24, 32])
    parser.add_argument("--methods", nargs="+", default=["trg", "hotrg"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/tn.json")
    parser.add_argument("--ipeps", action="store_true", help="also run the iPEPS section")
    parser.add_argument("--only-ipeps", action="store_true", help="run only the iPEPS section")
    parser.add_argument(
        "--ipeps-cases",
        type=_case,
        nargs="+",
        default=[(2, 12), (2, 24), (3, 18), (3, 36)],
        help="D:chi pairs (default 2:12 2:24 3:18 3:36; chi values that cut through a multiplet "
        "of the corner spectrum make CTMRG stall, e.g. 16 and 32 at D = 2)",
    )
    args = parser.parse_args()
    if args.only_ipeps:
        run_ipeps(args.ipeps_cases, args.repeats, args.out, {})
        return
    rows = []
    header = (
        f"{'method':>6} {'chi':>4} {'sweep s':>9} {'grad s':>9} {'lnZ err':>9} {'u err':>9} "
        f"{'grad/FD-1':>9}"
    )
    print(header, flush=True)
    for chi in args.chis:
        for method in args.methods:
            row = measure(method, chi, args.repeats, fd_check=chi == 16)
            rows.append(row)
            fd = row.get("grad_vs_fd_rel")
            print(
                f"{method:>6} {chi:>4} {row['sweep_s']:9.3f} {row['gradient_s']:9.3f} "
                f"{row['lnZ_error']:9.1e} {row['u_error']:9.1e} "
                f"{'' if fd is None else f'{fd:9.1e}'}",
                flush=True,
            )
            with open(args.out, "w") as f:
                json.dump({"rows": rows}, f, indent=1)
    stock = stock_trg_gradient(16) if "trg" in args.methods and 16 in args.chis else None
    print(f"stock jnp.linalg.svd TRG chi=16: d lnZ/d beta at T_c = {stock}")
    with open(args.out, "w") as f:
        json.dump({"rows": rows, "stock_trg_gradient": stock}, f, indent=1)
    if args.ipeps:
        run_ipeps(
            args.ipeps_cases, args.repeats, args.out, {"rows": rows, "stock_trg_gradient": stock}
        )


if __name__ == "__main__":
    main()
