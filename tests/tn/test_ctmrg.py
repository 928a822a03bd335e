"""C4v CTMRG against Onsager's exact solution and finite differences; its fixed-point derivative
through `diffsci.testing.check_grads`, its independence from the number of forward iterations,
degenerate corner spectra, and its errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.tn as tn
from diffsci.testing import check_grads
from diffsci.tn._models import _uniform_first_basis
from diffsci.utils import RESULTS

from . import onsager

# The eight leg permutations of a[u, l, d, r] under the symmetry group C4v of the square.
C4V = (
    (0, 1, 2, 3),
    (1, 2, 3, 0),
    (2, 3, 0, 1),
    (3, 0, 1, 2),
    (0, 3, 2, 1),
    (2, 1, 0, 3),
    (1, 0, 3, 2),
    (3, 2, 1, 0),
)


def symmetrize(a):
    return sum(jnp.transpose(a, g) for g in C4V) / len(C4V)


def symmetric_model_tensor(bond_eigenvalues, bond_eigenvectors):
    """a[u, l, d, r] = sum_s W[s, u] W[s, l] W[s, d] W[s, r] with W = Q sqrt(Lambda), so that
    W W^T = B on every bond: the same split on all four legs, hence C4v symmetric."""
    w = bond_eigenvectors * jnp.sqrt(bond_eigenvalues)[None, :]
    return jnp.einsum("sa,sb,sc,sd->abcd", w, w, w, w)


def ising(beta):
    """Square-lattice Ising model, B = exp(beta s s') = Q diag(2 cosh, 2 sinh) Q^T.

    The legs are in the eigenbasis of B (leg state 0 ~ s summed, leg state 1 ~ s weighted by
    its sign), so the default initial environment of `ctmrg` (a vector of ones on the outer
    legs) is a boundary that favours s = +1: below T_c CTMRG converges to the + phase.
    Above T_c the fixed point is unique. ln Z is the same in both phases."""
    q = jnp.array([[1.0, 1.0], [1.0, -1.0]]) / jnp.sqrt(2.0)
    return symmetric_model_tensor(jnp.stack([2 * jnp.cosh(beta), 2 * jnp.sinh(beta)]), q)


def potts3(beta):
    """3-state Potts model, B = exp(beta delta_ss') = (e^beta - 1) I + J. Its S3 symmetry has a
    two-dimensional irreducible representation: doublets in the corner spectrum."""
    q = 3
    lam = jnp.full((q,), jnp.expm1(beta)).at[0].add(q)
    return symmetric_model_tensor(lam, _uniform_first_basis(q, jnp.float64))


@functools.cache
def _thermodynamics(chi):
    """(ln Z/N, u, C) at one beta: value, first and second derivative in forward mode (the
    tangent rule of `ctmrg` applied twice), jitted once per chi."""

    def log_z(beta):
        return tn.ctmrg_log_z(ising(beta), chi)

    def slope(beta):
        return jax.jvp(log_z, (beta,), (jnp.ones_like(beta),))

    @jax.jit
    def one(beta):
        (value, first), (_, second) = jax.jvp(slope, (beta,), (jnp.ones_like(beta),))
        return value, -first, beta**2 * second

    return one


# High temperature, near T_c on both sides, ordered phase.
BETAS = (0.3, 0.42, 0.46, 0.6)


def test_ising_against_onsager():
    # chi = 8. Bounds on (ln Z/N, u, C): the measured deviations times about 3. They are the
    # finite-chi error, largest near T_c (measured at 0.42: 4e-9, 8e-7, 3e-5; at 0.46: 8e-11,
    # 2e-8, 1.2e-6); far from T_c CTMRG at chi = 8 is exact to round-off.
    bounds = {
        0.3: (1e-13, 1e-12, 1e-11),
        0.42: (1.2e-8, 2.5e-6, 1e-4),
        0.46: (3e-10, 6e-8, 4e-6),
        0.6: (1e-13, 1e-12, 1e-11),
    }
    one = _thermodynamics(8)
    for beta in BETAS:
        log_z, u, c = (float(x) for x in one(jnp.asarray(beta)))
        b_log_z, b_u, b_c = bounds[beta]
        assert abs(log_z - onsager.log_z(beta)) < b_log_z, (beta, log_z)
        assert abs(u - onsager.energy(beta)) < b_u, (beta, u)
        assert abs(c - onsager.specific_heat(beta)) < b_c, (beta, c)


def test_ising_accuracy_improves_with_chi():
    beta = 0.43  # 2.5% above T_c in beta, correlation length ~ 20 sites
    exact = onsager.log_z(beta)
    log_z = {chi: float(tn.ctmrg_log_z(ising(beta), chi)) for chi in (4, 16)}
    log_z[8] = float(_thermodynamics(8)(jnp.asarray(beta))[0])  # compiled once for all tests
    errors = [abs(log_z[chi] - exact) for chi in (4, 8, 16)]
    assert errors[0] > 10 * errors[1] > 100 * errors[2], errors
    assert errors[2] < 1e-10  # measured: 6e-6, 4e-8, 2.4e-11


def test_energy_against_finite_differences():
    # The AD derivative is the exact derivative of the same truncated (chi = 8) network; a
    # fourth-order central difference of ln Z from separate CTMRG runs must agree to the
    # convergence tolerance, also near T_c where the finite-chi error is much larger. (The
    # truncation error of the stencil, h^4 f^(5) / 30, is 1e-10 at beta = 0.42 for h = 2.5e-4.)
    one = _thermodynamics(8)
    h = 2.5e-4
    for beta in (0.3, 0.42):
        f = {k: float(one(jnp.asarray(beta + k * h))[0]) for k in (-2, -1, 1, 2)}
        fd = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)
        u = float(one(jnp.asarray(beta))[1])
        assert abs(-u - fd) < 5e-10, (beta, -u, fd)


def test_vmap_over_temperatures():
    # A batch of temperatures in one vmapped while loop (the elements converge after different
    # numbers of iterations): values, energies and result codes equal the one-at-a-time ones,
    # and the energies match Onsager far from T_c (exact at chi = 6 there).
    chi = 6
    betas = jnp.array([0.3, 0.4, 0.6])

    def log_z(beta):
        return tn.ctmrg_log_z(ising(beta), chi)

    values, grads = jax.jit(jax.vmap(jax.value_and_grad(log_z)))(betas)
    codes = jax.vmap(lambda b: tn.ctmrg(ising(b), chi).result)(betas)
    assert bool(jnp.all(codes == RESULTS.successful))  # a batch of RESULTS items
    one = jax.jit(jax.value_and_grad(log_z))
    for i, beta in enumerate(betas):
        value, grad = one(beta)
        assert abs(float(values[i]) - float(value)) < 1e-12
        assert abs(float(grads[i]) - float(grad)) < 1e-9
    for i in (0, 2):
        assert abs(-float(grads[i]) - onsager.energy(float(betas[i]))) < 1e-10


def test_check_grads_random_symmetric_tensor():
    d, chi = 2, 6
    key = jax.random.PRNGKey(0)
    ones = jnp.ones((d,) * 4)
    a0 = symmetrize(ones + 0.3 * jax.random.normal(key, (d,) * 4))

    def invariants(a):
        env = tn.ctmrg(symmetrize(a), chi).env
        c, t = env.corner, env.edge
        c2 = c @ c
        ctct = jnp.einsum("ab,bkc,cd,dka->", c, t, c, t)
        return jnp.stack([jnp.trace(c2 @ c2) / jnp.trace(c2) ** 2, ctct / jnp.trace(c2)])

    check_grads(invariants, a0, order=1, num_directions=1, vmap=False, jit=False)


def test_gradient_does_not_depend_on_forward_iterations():
    # Reverse mode through the fixed point: the same gradient whether the forward loop started
    # far away (many iterations) or from the converged environment (a few). An unrolled
    # derivative would differ, and its memory would grow with the number of iterations.
    chi, beta = 8, 0.4

    @jax.jit
    def value_and_grad(beta, corner, edge):
        def log_z(b):
            init = tn.CTMRGEnv(corner, edge)
            return tn.ctmrg_log_z(ising(b), chi, init=init)

        return jax.value_and_grad(log_z)(beta)

    far = tn.ctmrg(ising(0.25), chi).env  # a higher-temperature environment
    near = tn.ctmrg(ising(beta), chi).env
    steps_far = int(tn.ctmrg(ising(beta), chi, init=far).steps)
    steps_near = int(tn.ctmrg(ising(beta), chi, init=near).steps)
    assert steps_far > 50 and steps_near <= 5, (steps_far, steps_near)
    v_far, g_far = value_and_grad(beta, far.corner, far.edge)
    v_near, g_near = value_and_grad(beta, near.corner, near.edge)
    np.testing.assert_allclose(v_far, v_near, rtol=1e-13)
    np.testing.assert_allclose(g_far, g_near, rtol=1e-9)
    np.testing.assert_allclose(-g_near, onsager.energy(beta), atol=1e-8)

    # The reverse pass holds one linear solve, not the forward iterations: its program is the
    # same whatever max_steps is.
    def reverse_program(max_steps):
        def log_z(b):
            return tn.ctmrg_log_z(ising(b), chi, max_steps=max_steps)

        return jax.make_jaxpr(jax.grad(log_z))(beta)

    sizes = [_count_equations(reverse_program(n)) for n in (10, 1000)]
    assert sizes[0] == sizes[1] > 100, sizes


def _count_equations(jaxpr):
    """Number of equations in a jaxpr, sub-jaxprs (loop bodies, custom rules) included."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                    total += _count_equations(sub)
    return total


def test_degenerate_corner_spectrum():
    # 3-state Potts at high temperature: doublets in the corner spectrum (chi = 9 keeps whole
    # multiplets). The gauge fixing rotates inside them; the derivative is finite and agrees
    # with finite differences.
    chi, beta = 9, 0.5

    def log_z(b):
        return tn.ctmrg_log_z(potts3(b), chi)

    @jax.jit
    def value_and_slope(b):
        return jax.jvp(log_z, (b,), (jnp.ones_like(b),))

    res = tn.ctmrg(potts3(beta), chi)
    spectrum = np.sort(np.abs(np.linalg.eigvalsh(np.asarray(res.env.corner))))[::-1]
    assert abs(spectrum[1] - spectrum[2]) < 1e-10 * spectrum[0]
    assert abs(spectrum[1] - spectrum[3]) > 1e-2 * spectrum[0]
    assert float(res.error) < 1e-10
    _, slope = value_and_slope(jnp.asarray(beta))
    h = 1e-3
    f = {k: float(value_and_slope(jnp.asarray(beta + k * h))[0]) for k in (-2, -1, 1, 2)}
    fd = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)
    assert np.isfinite(float(slope))
    assert abs(float(slope) - fd) < 1e-8, (float(slope), fd)


def test_result_codes_and_errors():
    a = ising(0.4)
    run = functools.partial(tn.ctmrg, chi=4, max_steps=2, throw=False)
    assert run(a).result == RESULTS.max_steps_reached
    assert int(run(a).steps) == 2
    assert run(a.at[0, 1, 0, 0].add(0.1)).result == RESULTS.not_c4v_symmetric
    assert run(a.at[0, 0, 0, 0].set(jnp.nan)).result == RESULTS.nonfinite
    assert tn.CTMRGResults is RESULTS  # the earlier name, kept for one release
    with pytest.raises(Exception, match="Increase `max_steps`"):
        jax.block_until_ready(tn.ctmrg(a, 4, max_steps=2))
    # chi = 7 cuts a doublet of the Potts corner spectrum: no fixed point, reported.
    cut = tn.ctmrg(potts3(0.5), 7, max_steps=200, throw=False)
    assert cut.result == RESULTS.max_steps_reached


def test_failed_derivative_solve_is_nan_without_throw_and_raises_with_it():
    # A GMRES allowed two iterations cannot solve the tangent system near T_c. With
    # `throw=False` the derivative is NaN in forward and reverse mode (the transposed solve is
    # diffsci's, not lineax's, which would raise whatever `throw` says); with `throw` both raise.
    import lineax as lx

    solver = lx.GMRES(rtol=1e-14, atol=1e-14, restart=2, max_steps=2)

    def log_z(beta, throw):
        return tn.ctmrg_log_z(ising(beta), 8, solver=solver, throw=throw)

    value, slope = jax.jvp(lambda b: log_z(b, False), (0.42,), (1.0,))
    assert np.isfinite(float(value)) and np.isnan(float(slope))
    assert np.isnan(float(jax.grad(log_z)(0.42, False)))
    for derivative in (jax.grad(log_z), lambda b, t: jax.jvp(lambda c: log_z(c, t), (b,), (1.0,))):
        with pytest.raises(Exception, match="maximum number of solver steps"):
            jax.block_until_ready(derivative(0.42, True))


def test_static_errors():
    a = ising(0.4)
    with pytest.raises(ValueError, match=r"rank-4 .* got shape \(2, 2, 2\)"):
        tn.ctmrg(a[0], 4)
    with pytest.raises(ValueError, match=r"same dimension, got shape \(2, 2, 2, 3\)"):
        tn.ctmrg(jnp.ones((2, 2, 2, 3)), 4)
    with pytest.raises(ValueError, match="`chi` must be an integer >= 1, got 0"):
        tn.ctmrg(a, 0)
    with pytest.raises(ValueError, match="`chi` must be an integer >= 1, got 2.5"):
        tn.ctmrg(a, 2.5)
    with pytest.raises(ValueError, match="`max_steps` must be an integer >= 1"):
        tn.ctmrg(a, 4, max_steps=0)
    with pytest.raises(ValueError, match="`tol` must be a positive number"):
        tn.ctmrg(a, 4, tol=-1.0)
    with pytest.raises(ValueError, match=r"expected \(4, 4\) and \(4, 2, 4\)"):
        tn.ctmrg(a, 4, init=tn.CTMRGEnv(jnp.eye(4), jnp.ones((4, 3, 4))))
    with pytest.raises(TypeError, match="real tensor"):
        tn.ctmrg(a.astype(jnp.complex128), 4)
    with pytest.raises(ValueError, match="legs of dimension 1"):
        tn.ctmrg(jnp.ones((1, 1, 1, 1)), 2)
