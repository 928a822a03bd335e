"""Single-site C4v iPEPS (diffsci.tn._ipeps, diffsci.physics._ipeps) against published iPEPS
states and energies, QMC, exact product-state energies, exact cluster bounds and brute force.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffsci.physics as physics
import diffsci.tn as tn
from diffsci.cli._main import main
from diffsci.testing import check_grads
from diffsci.utils import RESULTS

# Published single-site C4v iPEPS of the square-lattice Heisenberg antiferromagnet: J. Hasik,
# D. Poilblanc, F. Becca, SciPost Phys. 10, 012 (2021), data set
# github.com/jurajHasik/j1j2_ipeps_states, folder single-site_pg-C4v-A1/j20.0; the tensors are
# physics.published_ipeps_tensor(D). The numbers below are from the .dat files next to the tensors
# (columns: chi, energy per site, staggered magnetization m).
# D = 2, state_1s_A1_j20.0_D2_chi_opt48.dat: the same E at chi = 32..192, and m.
HASIK_D2_ENERGY = -0.6602310934799582
HASIK_D2_MAGNETIZATION = 0.3911236794580645
# D = 3, state_1s_A1_j20.0_D3_chi_opt108.dat: {chi: (E, m)}.
HASIK_D3 = {
    27: (-0.6680369342874259, 0.34803120367146406),
    54: (-0.6681156020054484, 0.3477572270201924),
}


def test_published_d2_state_energy_and_magnetization():
    a = physics.published_ipeps_tensor(2)
    np.testing.assert_allclose(tn.symmetrize_c4v(a), a, atol=1e-16)
    h = physics.heisenberg_bond()
    # chi = 12 sits in a gap of the corner spectrum; the published energy is the same from
    # chi = 16 to 192 to 1e-15.
    energy = tn.ipeps_energy(a, h, 12)
    assert abs(float(energy) - HASIK_D2_ENERGY) < 1e-10
    # chi = 16 cuts through an SU(2) multiplet of the corner spectrum: a plain cut has no fixed
    # point there (CTMRG stalled at max_steps); the multiplet-aware cut drops the split multiplet.
    result = tn.ctmrg(tn.double_layer(a / jnp.linalg.norm(a)), 16, throw=False)
    assert result.result == RESULTS.successful
    assert abs(float(tn.ipeps_energy(a, h, 16)) - HASIK_D2_ENERGY) < 1e-10
    an = a / jnp.linalg.norm(a)
    env = tn.ctmrg(tn.double_layer(an), 12).env
    rho = tn.one_site_rdm(an, env)
    sz, sx = 0.5 * (rho[0, 0] - rho[1, 1]), rho[0, 1]  # <S^z>, <S^x> = (rho_01 + rho_10) / 2
    assert abs(float(jnp.hypot(sz, sx)) - HASIK_D2_MAGNETIZATION) < 1e-9
    # the two-site matrix reduces to the one-site matrix on either site
    rho2 = tn.two_site_rdm(an, env)
    np.testing.assert_allclose(jnp.einsum("abcb->ac", rho2), rho, atol=1e-13)
    np.testing.assert_allclose(jnp.einsum("abad->bd", rho2), rho, atol=1e-13)


def test_published_tensors_reproduce_the_files():
    # Entries read off the .json files (any index order, not only orbit representatives), the
    # number of nonzero entries of each file, and C4v invariance.
    entries = {
        2: [((0, 0, 0, 0, 1), 0.017282585382645214), ((1, 1, 0, 1, 0), 0.03009336749550069)],
        3: [
            ((0, 2, 1, 2, 1), 1.0),
            ((0, 1, 1, 2, 0), -0.0688939549276229),
            ((1, 2, 2, 2, 1), 0.03349389354804266),
            ((1, 2, 0, 1, 1), 0.1841621372205264),
        ],
    }
    for bond_dim, count in [(2, 32), (3, 162), (4, 512)]:
        a = physics.published_ipeps_tensor(bond_dim)
        assert a.shape == (2,) + (bond_dim,) * 4
        assert np.count_nonzero(np.asarray(a)) == count
        assert float(jnp.max(jnp.abs(a))) == 1.0
        np.testing.assert_allclose(tn.symmetrize_c4v(a), a, atol=1e-15)
        for index, value in entries.get(bond_dim, []):
            assert float(a[index]) == value
    assert physics.published_ipeps_tensor(3, jnp.float32).dtype == jnp.float32
    with pytest.raises(ValueError, match="bond_dim in"):
        physics.published_ipeps_tensor(5)


def _plaquette_nn_energy(a, env, h_terms):
    """Energy per site from the nearest-neighbour pair of a 2x2 plaquette in the environment,

    ```
    C T T C
    T a a T
    T a a T
    C T T C
    ```

    the estimator of the published .dat files (peps-torch's NN density matrix of the 2x2
    plaquette), contracted here independently of diffsci.tn: each quadrant C T T a is a matrix
    Q[(chi' r), (chi' d)] and the plaquette is tr(Q Q Q Q), with the operators of the bond
    h = sum_k c_k O_k (x) O_k inserted into two neighbouring quadrants."""

    def quadrant(site):
        chi, d = env.edge.shape[:2]
        q = jnp.einsum("xy,xuw,ylv,uldr->wrvd", env.corner, env.edge, env.edge, site)
        return q.reshape(chi * d, chi * d)

    q = quadrant(tn.double_layer(a))
    q2 = q @ q
    norm = jnp.trace(q2 @ q2)
    bond = sum(
        c * jnp.trace(quadrant(tn.double_layer(a, o)) @ quadrant(tn.double_layer(a, o)) @ q2)
        for c, o in h_terms
    )
    return 2.0 * bond / norm


def test_published_d3_state_energy_and_magnetization():
    # The published D = 3 state evaluated with our CTMRG environment at chi = 27 and 54 against
    # the energies and magnetizations of its .dat file (HASIK_D3). Those energies come from the
    # nearest-neighbour pair of a 2x2 plaquette (_plaquette_nn_energy); tn.ipeps_energy uses
    # the smaller 2x1 patch (two_site_rdm), which at finite chi is a different approximation of
    # the same number (9e-5 higher at chi = 27, 1e-5 at chi = 54, both converging to the chi =
    # 216 value HEISENBERG_IPEPS_REFERENCE[3]).
    a = physics.published_ipeps_tensor(3)
    a = a / jnp.linalg.norm(a)
    x, y_im, z = (
        np.array([[0.0, 1.0], [1.0, 0.0]]),
        np.array([[0.0, -1.0], [1.0, 0.0]]),
        np.diag([1.0, -1.0]),
    )
    # rotated S.S = (-X X + Y Y - Z Z) / 4 with Y Y = -y_im y_im (heisenberg_bond)
    h_terms = [(-0.25, jnp.asarray(o)) for o in (x, y_im, z)]
    h = physics.heisenberg_bond()
    np.testing.assert_allclose(sum(c * jnp.kron(o, o) for c, o in h_terms), h, atol=1e-16)
    reference = physics.HEISENBERG_IPEPS_REFERENCE[3]
    previous = None
    for chi, (energy, magnetization) in HASIK_D3.items():
        env = tn.ctmrg(tn.double_layer(a), chi).env
        assert abs(float(_plaquette_nn_energy(a, env, h_terms)) - energy) < 1e-10
        # the library's plaquette patch, the same estimator
        plaquette = tn.two_site_rdm(a, env, patch="plaquette")
        e_plaquette = 2.0 * jnp.einsum("abcd,cdab->", plaquette, h.reshape(2, 2, 2, 2))
        assert abs(float(e_plaquette) - energy) < 1e-10
        rho = tn.one_site_rdm(a, env)
        m = jnp.hypot(0.5 * (rho[0, 0] - rho[1, 1]), rho[0, 1])
        assert abs(float(m) - magnetization) < 1e-10
        e_2x1 = float(
            2.0 * jnp.einsum("abcd,cdab->", tn.two_site_rdm(a, env), h.reshape(2, 2, 2, 2))
        )
        # the 2x1 estimate approaches the converged published energy from above
        assert reference < e_2x1 < (previous if previous is not None else 0.0)
        previous = e_2x1


def test_plaquette_rdm_is_a_density_matrix_of_the_pair():
    # A random C4v tensor (short correlation length, so chi = 16 is converged): the plaquette
    # and bond patches must give the same two-site matrix; it is symmetric (Hermitian), invariant
    # under exchange of the two sites (C4v), positive, of unit trace, and its one-site reduction
    # is one_site_rdm. Also checked against the brute-force chi = 1 product boundary, where the
    # plaquette network is four sites with the boundary vector on every outer leg.
    a = tn.symmetrize_c4v(jax.random.normal(jax.random.key(5), (2, 2, 2, 2, 2)))
    a = a / jnp.linalg.norm(a)
    env = tn.ctmrg(tn.double_layer(a), 16, tol=1e-13).env
    rho = tn.two_site_rdm(a, env, patch="plaquette")
    np.testing.assert_allclose(rho, tn.two_site_rdm(a, env), atol=1e-10)
    np.testing.assert_allclose(rho, jnp.transpose(rho, (2, 3, 0, 1)), atol=1e-14)
    np.testing.assert_allclose(rho, jnp.transpose(rho, (1, 0, 3, 2)), atol=1e-14)
    assert float(jnp.min(jnp.linalg.eigvalsh(rho.reshape(4, 4)))) > -1e-12
    np.testing.assert_allclose(float(jnp.einsum("abab->", rho)), 1.0, atol=1e-14)
    np.testing.assert_allclose(jnp.einsum("abcb->ac", rho), tn.one_site_rdm(a, env), atol=1e-10)

    rng = np.random.default_rng(6)
    b = rng.normal(size=(2, 2, 2, 2, 2))
    b = np.asarray(tn.symmetrize_c4v(jnp.asarray(b)))
    w = rng.normal(size=2)
    boundary = _Env(corner=jnp.ones((1, 1)), edge=jnp.asarray(np.kron(w, w)).reshape(1, 4, 1))
    rho1 = tn.two_site_rdm(jnp.asarray(b), boundary, patch="plaquette")
    # Sites 1 (top left), 2 (top right), 3 (bottom right), 4 (bottom left); legs (s, u, l, d, r);
    # inner bonds j = 1-2, k = 2-3, m = 3-4, i = 1-4, every outer leg contracted with w.
    site1 = np.einsum("sulij,u,l->sij", b, w, w)  # free: d = i, r = j
    site2 = np.einsum("sujkr,u,r->sjk", b, w, w)  # l = j, d = k
    site3 = np.einsum("skmdr,d,r->skm", b, w, w)  # u = k, l = m
    site4 = np.einsum("sildm,l,d->sim", b, w, w)  # u = i, r = m
    psi = np.einsum("sij,tjk,vkm,xim->stvx", site1, site2, site3, site4)
    pair = np.einsum("stvx,STvx->stST", psi, psi)
    np.testing.assert_allclose(rho1, pair / np.einsum("abab->", pair), rtol=1e-12, atol=1e-14)


def test_symmetrize_c4v_is_the_projector_onto_invariant_tensors():
    a = jax.random.normal(jax.random.key(1), (2, 3, 3, 3, 3))
    s = tn.symmetrize_c4v(a)
    np.testing.assert_allclose(tn.symmetrize_c4v(s), s, atol=1e-15)
    # invariant under a 90-degree rotation and a reflection, which generate C4v
    np.testing.assert_allclose(jnp.transpose(s, (0, 2, 3, 4, 1)), s, atol=1e-15)
    np.testing.assert_allclose(jnp.transpose(s, (0, 1, 4, 3, 2)), s, atol=1e-15)
    # orthogonal projector: <a - Pa, Pa> = 0
    assert abs(float(jnp.sum((a - s) * s))) < 1e-12


def _brute_two_site_rdm(a, w):
    """rho of the two-site state sum_b [A(s1) w w w]_b [A(s2) w w w]_b (open boundary w)."""
    left = np.einsum("suldb,u,l,d->sb", a, w, w, w)
    right = np.einsum("subdr,u,d,r->sb", a, w, w, w)
    psi = np.einsum("sb,tb->st", left, right)
    rho = np.einsum("ab,cd->abcd", psi, psi)
    return rho / np.einsum("abab->", rho)


def test_two_site_rdm_contraction_against_brute_force():
    # A chi = 1 environment whose edge is a product boundary vector w (x) w: the network is then
    # a two-site state with the boundary vector w on every dangling virtual leg, which numpy can
    # write down directly. The site tensor is random, not symmetric: the right site must be
    # contracted as itself, not as a copy of the left one.
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2, 3, 3, 3, 3))
    w = rng.normal(size=3)
    env = _Env(corner=jnp.ones((1, 1)), edge=jnp.asarray(np.kron(w, w)).reshape(1, 9, 1))
    rho = tn.two_site_rdm(jnp.asarray(a), env)
    np.testing.assert_allclose(rho, _brute_two_site_rdm(a, w), rtol=1e-12, atol=1e-14)


class _Env:
    def __init__(self, corner, edge):
        self.corner, self.edge = corner, edge


def test_double_layer_is_the_norm_network_tensor():
    a = jax.random.normal(jax.random.key(2), (2, 2, 2, 2, 2))
    dl = np.asarray(tn.double_layer(a)).reshape((2,) * 8)
    an = np.asarray(a)
    for u, up, l, lp, d, dp, r, rp in itertools.product(range(2), repeat=8):
        expected = sum(an[s, u, l, d, r] * an[s, up, lp, dp, rp] for s in range(2))
        assert abs(dl[u, up, l, lp, d, dp, r, rp] - expected) < 1e-14
    z = jnp.diag(jnp.array([1.0, -1.0]))
    dlz = tn.double_layer(a, z)
    expected = jnp.einsum("sabcd,s,sefgh->aebfcgdh", a, jnp.diag(z), a).reshape(dlz.shape)
    np.testing.assert_allclose(dlz, expected, atol=1e-14)


def test_product_states_give_the_classical_energies():
    # D = 1: the Neel state (ferromagnet in the rotated frame) has -1/4 per bond, 2 bonds per
    # site: -1/2. A product state at angle theta in the TFIM: -2 cos^2(theta) - g sin(theta).
    neel = jnp.zeros((2, 1, 1, 1, 1)).at[0].set(1.0)
    assert abs(float(tn.ipeps_energy(neel, physics.heisenberg_bond(), 1)) + 0.5) < 1e-14
    theta, g = 0.3, 2.0
    tilted = (
        jnp.zeros((2, 1, 1, 1, 1))
        .at[:, 0, 0, 0, 0]
        .set(jnp.array([np.cos(theta / 2), np.sin(theta / 2)]))
    )
    exact = -2 * np.cos(theta) ** 2 - g * np.sin(theta)
    assert abs(float(tn.ipeps_energy(tilted, physics.tfim_bond(g), 1)) - exact) < 1e-14
    # the same product state embedded in D = 2 (only virtual index 0 used)
    neel2 = jnp.zeros((2, 2, 2, 2, 2)).at[0, 0, 0, 0, 0].set(1.0)
    assert abs(float(tn.ipeps_energy(neel2, physics.heisenberg_bond(), 4)) + 0.5) < 1e-14


def test_heisenberg_bond_spectrum():
    # S.S has the triplet at +1/4 and the singlet at -3/4; the rotation is unitary.
    for rotated in (False, True):
        w = np.linalg.eigvalsh(np.asarray(physics.heisenberg_bond(rotated)))
        np.testing.assert_allclose(w, [-0.75, 0.25, 0.25, 0.25], atol=1e-15)
    h = np.asarray(physics.heisenberg_bond())
    swap = np.eye(4)[[0, 2, 1, 3]]
    np.testing.assert_allclose(swap @ h @ swap, h, atol=1e-15)


@pytest.mark.parametrize("patch", ["bond", "plaquette"])
def test_energy_gradient_against_finite_differences(patch):
    # Near the published D = 2 state (CTMRG converges fast there), chi = 9, CTMRG converged to
    # 1e-12 so that finite differences of the energy resolve the derivative. Reverse mode only:
    # ctmrg's rule is a custom_jvp (checked in both modes in tests/tn/test_ctmrg.py) and jax.grad
    # runs through its transpose; the function is jitted once instead of run op by op.
    a = physics.published_ipeps_tensor(2) + 0.05 * jax.random.normal(
        jax.random.key(4), (2, 2, 2, 2, 2)
    )
    h = physics.heisenberg_bond()

    @jax.jit
    def energy(x):
        return tn.ipeps_energy(x, h, 9, tol=1e-12, max_steps=500, patch=patch)

    check_grads(energy, a, order=1, modes=("rev",), jit=False, vmap=False)


def test_d2_heisenberg_optimization_reaches_the_published_energy():
    # Random start around the Neel state; L-BFGS at chi = 12, where the published D = 2 state's
    # energy is within 3e-13 of its chi = 192 value (test above), so a finite-chi dip below the
    # published energy is excluded at that level. Tolerance: 1e-6 above (the stopping criteria
    # gtol, ftol; the run reaches ~4e-11), 1e-9 below.
    # (heisenberg_ipeps: the Neel state plus noise, then tn.optimize_ipeps)
    result = physics.heisenberg_ipeps(2, 12, key=jax.random.key(0), noise=0.05, steps=80)
    assert result.result == RESULTS.successful, result.message
    e = result.energy
    assert HASIK_D2_ENERGY - 1e-9 < e < HASIK_D2_ENERGY + 1e-6
    # variational: above the QMC ground-state energy -0.669437(5) (Sandvik, PRB 56, 11678 (1997))
    assert e > physics.HEISENBERG_QMC_ENERGY
    assert np.all(np.diff(result.history) <= 1e-12)  # monotone: only accepted steps


def test_random_start_is_a_seeded_symmetric_gaussian_tensor():
    from diffsci.physics._ipeps import heisenberg_start

    key = jax.random.key(25)
    a = heisenberg_start(3, 27, key=key, noise=0.0, init="random", steps=1)
    expected = tn.symmetrize_c4v(jax.random.normal(key, (2, 3, 3, 3, 3)))
    np.testing.assert_array_equal(a, expected)
    np.testing.assert_allclose(tn.symmetrize_c4v(a), a, atol=1e-15)
    other = heisenberg_start(3, 27, key=jax.random.key(26), noise=0.0, init="random", steps=1)
    assert float(jnp.max(jnp.abs(other - a))) > 0.1


def test_padding_keeps_the_state_and_warm_starts_converge():
    h = physics.heisenberg_bond()
    a2 = physics.published_ipeps_tensor(2)
    a3 = physics.pad_ipeps_tensor(a2, 3)
    assert a3.shape == (2, 3, 3, 3, 3)
    np.testing.assert_array_equal(a3[:, :2, :2, :2, :2], a2)
    assert np.count_nonzero(np.asarray(a3)) == 32
    # the same state: the published D = 2 energy (chi = 12, as in the D = 2 test above)
    assert abs(float(tn.ipeps_energy(a3, h, 12)) - HASIK_D2_ENERGY) < 1e-10
    noisy = physics.pad_ipeps_tensor(a2, 3, key=jax.random.key(0), noise=1e-2)
    assert np.count_nonzero(np.asarray(noisy)) == noisy.size
    with pytest.raises(ValueError, match="bond_dim must be an integer >= the bond dimension 2"):
        physics.pad_ipeps_tensor(a2, 1)
    with pytest.raises(ValueError, match="needs a PRNG `key`"):
        physics.pad_ipeps_tensor(a2, 3, noise=1e-2)
    with pytest.raises(ValueError, match="init must be"):
        physics.heisenberg_ipeps(2, 12, init="bogus")
    with pytest.raises(ValueError, match="needs bond_dim >= 3"):
        physics.heisenberg_ipeps(2, 12, init="smaller")
    # a warm start from the published state plus noise goes back to it (chi = 12 and options
    # as in the D = 2 optimization test: the same compiled step)
    result = physics.heisenberg_ipeps(2, 12, init="published", noise=1e-2, steps=40)
    assert result.result == RESULTS.successful, result.message
    assert HASIK_D2_ENERGY - 1e-9 < result.energy < HASIK_D2_ENERGY + 1e-6


def _cluster_lower_bound(g, size=3):
    """Anderson bound: E0/N >= lowest eigenvalue of the open size x size cluster Hamiltonian with
    each bond weighted 1/(size (size - 1)) and each field 1/size^2 (every lattice bond and site
    is covered that many times by the translates of the cluster). Exact diagonalization."""
    n = size * size
    states = np.arange(2**n)
    z = 1 - 2 * ((states[:, None] >> np.arange(n)[None, :]) & 1)
    diag = np.zeros(2**n)
    for x, y in itertools.product(range(size), repeat=2):
        i = x * size + y
        if x + 1 < size:
            diag -= z[:, i] * z[:, i + size] / (size * (size - 1))
        if y + 1 < size:
            diag -= z[:, i] * z[:, i + 1] / (size * (size - 1))
    h = np.diag(diag)
    for i in range(n):
        h[states, states ^ (1 << i)] -= g / n
    return np.linalg.eigvalsh(h)[0]


@pytest.mark.parametrize("g", [0.0, 3.0, 6.0])
def test_tfim_d2_energy_between_exact_bounds(g):
    # chi = 12 and the default options: the same compiled L-BFGS step as the Heisenberg test
    result = physics.tfim_ipeps(g, 2, 12, steps=40, key=jax.random.key(1))
    e = result.energy
    e1 = physics.tfim_product_state_energy(g)
    if g == 0.0:
        # the classical ground state -2; the optimizer stops at gradient norm gtol = 1e-6
        assert abs(e + 2.0) < 1e-8
        return
    # D = 2 contains every product state, and improves on the best one (exactly -2 - g^2/8)...
    assert e < e1 - 1e-2
    # ...but stays above the exact lower bound from the 3x3 cluster.
    assert e > _cluster_lower_bound(g)


def test_bad_input_is_refused_with_a_message():
    h = physics.heisenberg_bond()
    with pytest.raises(ValueError, match="rank 5"):
        tn.ipeps_energy(jnp.zeros((2, 2, 2, 2)), h, 4)
    with pytest.raises(ValueError, match="same bond dimension"):
        tn.ipeps_energy(jnp.zeros((2, 2, 2, 2, 3)), h, 4)
    with pytest.raises(TypeError, match="real floating-point"):
        tn.ipeps_energy(jnp.zeros((2, 2, 2, 2, 2), jnp.complex128), h, 4)
    with pytest.raises(ValueError, match="two-site operator"):
        tn.ipeps_energy(jnp.ones((2, 2, 2, 2, 2)), jnp.eye(3), 4)
    with pytest.raises(Exception, match="not a symmetric matrix"):
        tn.ipeps_energy(jnp.ones((2, 1, 1, 1, 1)), jnp.triu(jnp.ones((4, 4))), 1)
    with pytest.raises(Exception, match="needs a C4v symmetric site tensor"):
        asymmetric = jax.random.normal(jax.random.key(0), (2, 2, 2, 2, 2))
        boundary = _Env(corner=jnp.ones((1, 1)), edge=jnp.ones((1, 4, 1)))
        tn.two_site_rdm(asymmetric, boundary, patch="plaquette")
    with pytest.raises(ValueError, match="patch must be one of"):
        tn.ipeps_energy(jnp.ones((2, 1, 1, 1, 1)), h, 1, patch="2x2")
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        tn.optimize_ipeps(jnp.ones((2, 1, 1, 1, 1)), h, 1, steps=0)
    with pytest.raises(ValueError, match="scalar field"):
        physics.tfim_bond(jnp.ones(2))


def _scripted_steps(monkeypatch, outcomes):
    """Replace the jitted L-BFGS iteration of optimize_ipeps by one that reports the given
    (energy before, energy after, gradient norm after) triples in turn, to drive the control
    logic (rejections, stalls) through cases that real landscapes produce only rarely."""
    import optax

    from diffsci.tn import _ipeps_optimizer

    script = iter(outcomes)

    def fake_make_step(*args):
        def step(x, state, h):
            outcome = next(script)
            if isinstance(outcome, Exception):
                raise outcome
            if outcome == "solve failed":  # CTMRG converged, its derivative's solve did not
                nan = float("nan")
                return x + nan, state, (-0.5, nan), (nan, nan), True
            before, after, g = outcome
            return x + 1.0, state, (before, 1.0), (after, g), False

        return optax.lbfgs(), step

    monkeypatch.setattr(_ipeps_optimizer, "_make_step", fake_make_step)


def test_optimizer_control_logic(monkeypatch):
    a0 = jnp.ones((2, 1, 1, 1, 1))
    h = physics.heisenberg_bond()
    # no decrease twice in a row with a gradient above gtol: a kink, not convergence
    _scripted_steps(monkeypatch, [(-0.5, -0.5, 1e-2), (-0.5, -0.5, 1e-2)])
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.line_search_failed and r.iterations == 0
    assert "kink" in r.message and list(r.history) == [-0.5]
    # a stall, then progress: the stall counter starts again
    _scripted_steps(
        monkeypatch,
        [(-0.5, -0.5, 1e-2), (-0.5, -0.6, 1e-2), (-0.6, -0.6, 1e-2), (-0.6, -0.7, 1e-7)],
    )
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.successful and r.iterations == 2
    assert list(r.history) == [-0.5, -0.6, -0.7]
    # failed CTMRG (+inf) or an uphill step is rejected; four in a row end the run
    _scripted_steps(
        monkeypatch,
        [(-0.5, np.inf, 1.0), (-0.5, -0.4, 1.0), (-0.5, -0.55, 1e-2)] + [(-0.55, np.inf, 1.0)] * 4,
    )
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.ctmrg_failed and r.rejected == 6 and r.iterations == 1
    assert list(r.history) == [-0.5, -0.55]
    # a failed linear solve of the fixed-point derivative (a NaN gradient at a finite energy):
    # a rejected step like a failed CTMRG; runtime errors are not swallowed
    solver_error = "solve failed"
    _scripted_steps(monkeypatch, [(-0.5, -0.6, 1e-2), solver_error, (-0.6, -0.7, 1e-7)])
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.successful and r.rejected == 1
    assert list(r.history) == [-0.5, -0.6, -0.7]
    _scripted_steps(monkeypatch, [solver_error])
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.ctmrg_failed and "fixed-point derivative" in r.message
    _scripted_steps(monkeypatch, [jax.errors.JaxRuntimeError("INTERNAL: out of memory")])
    with pytest.raises(jax.errors.JaxRuntimeError, match="out of memory"):
        tn.optimize_ipeps(a0, h, 1, steps=5)
    # an initial tensor whose CTMRG fails is reported as such, not optimized
    _scripted_steps(monkeypatch, [(np.inf, np.inf, 1.0)])
    r = tn.optimize_ipeps(a0, h, 1, steps=5)
    assert r.result == RESULTS.ctmrg_failed and "initial tensor" in r.message


def test_a_resume_of_another_run_is_refused(monkeypatch, tmp_path):
    # The start tensor and the line search change the path: a folder of a run with others is
    # refused. More steps (or other tolerances) go on from the checkpoint.
    from diffsci.utils import CheckpointError, load_checkpoint, save_checkpoint

    a0, h = jnp.ones((2, 1, 1, 1, 1)), physics.heisenberg_bond()
    path = tmp_path / "ipeps"
    _scripted_steps(monkeypatch, [(-0.5, -0.6, 1e-2), (-0.6, -0.7, 1e-2)])
    r = tn.optimize_ipeps(a0, h, 1, steps=2, checkpoint_dir=tmp_path, checkpoint_every=1)
    assert r.iterations == 2
    for other in (dict(a0=2 * a0), dict(a0=a0, max_linesearch_steps=3), dict(a0=a0, chi=2)):
        with pytest.raises(CheckpointError, match="different run"):
            tn.optimize_ipeps(
                other.pop("a0"), h, other.pop("chi", 1), steps=3, checkpoint_dir=tmp_path, **other
            )
    _scripted_steps(monkeypatch, [(-0.7, -0.8, 1e-7)])
    r = tn.optimize_ipeps(a0, h, 1, steps=3, checkpoint_dir=tmp_path)
    assert r.iterations == 3 and list(r.history) == [-0.5, -0.6, -0.7, -0.8]
    # a checkpoint of the earlier single-file layout, and of its first format (no start tensor
    # or line search recorded), still resumes: written here by hand from the driver's files
    import optax

    state, meta = load_checkpoint(path / "state", like={"x": a0, "opt": optax.lbfgs().init(a0)})
    old = tmp_path / "old"
    legacy_run = {
        k: v for k, v in meta["run"].items() if k not in ("a0_sha", "max_linesearch_steps")
    }
    tree = {
        "x": state["x"],
        "state": state["opt"],
        "history": np.asarray(r.history),
        "gnorms": np.asarray(r.gradient_norms),
    }
    legacy_meta = {"run": legacy_run, "iterations": 3, "rejected": 0, "history_length": 4}
    save_checkpoint(old / "ipeps", tree, legacy_meta)
    # (and a tighter gtol goes on from a converged run)
    _scripted_steps(monkeypatch, [(-0.8, -0.9, 1e-7)])
    r = tn.optimize_ipeps(a0, h, 1, steps=4, gtol=1e-8, checkpoint_dir=old)
    assert r.iterations == 4 and list(r.history) == [-0.5, -0.6, -0.7, -0.8, -0.9]


def test_failed_derivative_solve_is_reported_not_raised():
    # The same path without mocks: a GMRES allowed two iterations cannot solve the tangent
    # system, the gradient is NaN (CTMRG runs with throw=False), and optimize_ipeps reports it.
    import lineax as lx

    a0 = physics.published_ipeps_tensor(2) + 0.05 * jax.random.normal(
        jax.random.key(1), (2, 2, 2, 2, 2)
    )
    solver = lx.GMRES(rtol=1e-12, atol=1e-12, restart=2, max_steps=2)
    r = tn.optimize_ipeps(a0, physics.heisenberg_bond(), 6, steps=3, solver=solver)
    assert r.result == RESULTS.ctmrg_failed and "fixed-point derivative" in r.message
    assert r.iterations == 0


def test_cli_runs_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "ipeps")
    assert main(["ipeps", "--d", "2", "--chi", "12", "--steps", "2", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "QMC" in text and "published iPEPS D=2" in text
    assert (tmp_path / "ipeps" / "ipeps.png").exists()
    first = np.loadtxt(tmp_path / "ipeps" / "history.csv", skiprows=1)
    assert main(["ipeps", "--d", "2", "--chi", "12", "--steps", "4", "--out", out, "--resume"]) == 0
    second = np.loadtxt(tmp_path / "ipeps" / "history.csv", skiprows=1)
    np.testing.assert_array_equal(second[: len(first)], first)  # continued, not restarted
    assert len(second) > len(first)
    # a new run started from the saved tensor, without noise, starts at the energy it ended at
    tensor = str(tmp_path / "ipeps" / "tensor.npy")
    out2 = str(tmp_path / "warm")
    args = ["ipeps", "--d", "2", "--chi", "12", "--steps", "1", "--out", out2]
    assert main([*args, "--init", tensor, "--noise", "0"]) == 0
    third = np.loadtxt(tmp_path / "warm" / "history.csv", skiprows=1)
    assert abs(third[0] - second[-1]) < 1e-12
    # the plaquette estimator: at D = 2, chi = 12 (converged) the same energy
    capsys.readouterr()
    assert main([*args, "--init", tensor, "--noise", "0", "--patch", "plaquette"]) == 0
    assert "(plaquette patch)" in capsys.readouterr().out
    fourth = np.loadtxt(tmp_path / "warm" / "history.csv", skiprows=1)
    assert abs(fourth[0] - second[-1]) < 1e-10
    with pytest.raises(SystemExit, match="--init must be"):
        main([*args, "--init", "bogus"])


def test_the_accept_reject_rule_directly():
    # optimize_ipeps's rule for the driver, fed records by hand (no optimizer, no monkeypatch)
    from diffsci.tn._ipeps_optimizer import LBFGSRule
    from diffsci.utils import ACCEPT, History, Reject, Run, Stop

    def rec(after, g, before=-0.5, failed=False):
        return {
            "energy": after,
            "gradient_norm": g,
            "energy_before": before,
            "gradient_norm_before": 1.0,
            "solve_failed": failed,
        }

    rule = LBFGSRule(lambda s: ("reset", s), gtol=1e-6, ftol=1e-11)
    run = Run("x0", 10, History())
    # the first evaluation becomes row 0; a step down is accepted
    assert rule(run, "x1", rec(-0.6, 1e-2)) is ACCEPT
    assert list(run.history["energy"]) == [-0.5]
    run.history.append(rec(-0.6, 1e-2))
    run.step, run.state, run.record = 1, "x1", rec(-0.6, 1e-2)
    # uphill or not finite: rejected (counted), retried from the last state with a fresh memory
    for bad in (rec(-0.59, 1.0), rec(np.inf, 1.0), rec(-0.7, np.nan)):
        verdict = rule(run, "x2", bad)
        assert verdict == Reject(("reset", "x1")) and verdict.counted
    assert rule.stop(run) is None  # three failures in a row are allowed...
    assert isinstance(rule(run, "x2", rec(-0.59, 1.0)), Reject)
    stop = rule.stop(run)  # ...the fourth ends the run
    assert stop == Stop(RESULTS.ctmrg_failed, stop.message) and "four steps" in stop.message
    # an accepted step clears the failures; no decrease with a large gradient is retried once
    # (not counted), a second in a row stops with line_search_failed
    rule = LBFGSRule(lambda s: ("reset", s), gtol=1e-6, ftol=1e-11)
    assert rule(run, "x2", rec(-0.6, 1e-2)) == Reject(("reset", "x1"), counted=False)
    stop = rule(run, "x2", rec(-0.6, 1e-2))
    assert stop.result == RESULTS.line_search_failed and "kink" in stop.message
    # the stop rule: energy change below ftol after an accepted step, gradient norm below gtol
    run.history.append(rec(-0.6 - 1e-12, 1e-3))
    assert rule.stop(run).message.endswith("< ftol")
    run.history.append(rec(-0.7, 1e-7))
    assert rule.stop(run).message.startswith("gradient norm")
    # a failure at the initial tensor stops at once, saying which solve failed
    for failed, words in ((False, "CTMRG did not converge"), (True, "linear solve")):
        run = Run("x0", 10, History())
        rule = LBFGSRule(lambda s: s, gtol=1e-6, ftol=0.0)
        stop = rule(run, "x1", rec(np.inf, np.inf, before=np.inf, failed=failed))
        assert stop.result == RESULTS.ctmrg_failed and words in stop.message
        assert len(run.history) == 1
