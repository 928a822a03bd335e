r"""Square-lattice spin models for the single-site C4v iPEPS of `diffsci.tn`: bond Hamiltonians,
initial tensors and reference energies.

The Hamiltonians are written as $H = \sum_{\langle ij\rangle} h_{ij}$ over nearest-neighbour bonds
(two per site), with one-site terms split evenly over the four bonds of a site; `h` is a
$4\times 4$ real matrix with rows $(s_1, s_2)$ and columns $(s_1', s_2')$, basis
$|{\uparrow}\rangle = (1, 0)$, $|{\downarrow}\rangle = (0, 1)$.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

__all__ = [
    "HEISENBERG_IPEPS_REFERENCE",
    "HEISENBERG_QMC_ENERGY",
    "heisenberg_bond",
    "heisenberg_ipeps",
    "ipeps_initial_tensor",
    "tfim_bond",
    "tfim_ipeps",
    "tfim_product_state_energy",
]

# Ground-state energy per site of the spin-1/2 square-lattice Heisenberg antiferromagnet from
# quantum Monte Carlo, -0.669437(5): A. W. Sandvik, Phys. Rev. B 56, 11678 (1997).
HEISENBERG_QMC_ENERGY = -0.669437

# Published variational energies per site of the single-site C4v iPEPS at bond dimension D,
# converged in the environment dimension: J. Hasik, D. Poilblanc, F. Becca, SciPost Phys. 10, 012
# (2021), data set github.com/jurajHasik/j1j2_ipeps_states (single-site_pg-C4v-A1, J2 = 0): D = 2,
# -0.6602310934799582 (chi = 32 ... 192); D = 3, -0.6681273941483516 (chi = 216); D = 4,
# -0.6689673179389798 (chi = 800). The same ansatz and optimizer (L-BFGS through CTMRG) as
# Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019).
HEISENBERG_IPEPS_REFERENCE = {
    2: -0.6602310934799582,
    3: -0.6681273941483516,
    4: -0.6689673179389798,
}

_X = np.array([[0.0, 1.0], [1.0, 0.0]])
_Y_IM = np.array([[0.0, -1.0], [1.0, 0.0]])  # sigma^y = i * _Y_IM
_Z = np.array([[1.0, 0.0], [0.0, -1.0]])
_I = np.eye(2)


def heisenberg_bond(rotated: bool = True, dtype=None) -> Float[Array, "4 4"]:
    r"""The Heisenberg bond $\mathbf S_i\cdot\mathbf S_j$ ($S = \sigma/2$), optionally after the
    sublattice rotation that makes the Néel state translation invariant.

    The antiferromagnet on the bipartite square lattice is mapped to a Hamiltonian whose ground
    state can be sought with one tensor on every site by rotating every spin of one sublattice by
    $\pi$ about the $y$ axis, $U = \prod_{j \in B} (-i\sigma^y_j)$, which maps
    $S^x_j \to -S^x_j$, $S^y_j \to S^y_j$, $S^z_j \to -S^z_j$ on sublattice $B$. Every bond joins
    $A$ to $B$, so

    $$h = \mathbf S_i\cdot\mathbf S_j \;\to\;
        \tfrac14\left(-\sigma^x\sigma^x + \sigma^y\sigma^y - \sigma^z\sigma^z\right),$$

    a real matrix ($\sigma^y\otimes\sigma^y$ is real), symmetric under exchange of the two sites.
    The spectrum, and so the ground-state energy, is unchanged; the Néel state becomes the
    ferromagnet $|{\uparrow\uparrow\cdots}\rangle$ with energy $-1/4$ per bond.

    **Arguments:**

    - `rotated`: apply the sublattice rotation (default); `False` gives $\mathbf S_i\cdot\mathbf
      S_j$ itself.
    - `dtype`: float dtype (default: JAX's default float, float64 under x64).

    **Returns:** the $4\times4$ matrix $h$.
    """
    yy = -np.kron(_Y_IM, _Y_IM)  # sigma^y (x) sigma^y = (i Y)(x)(i Y) = -Y(x)Y
    xx, zz = np.kron(_X, _X), np.kron(_Z, _Z)
    h = (-xx + yy - zz) / 4 if rotated else (xx + yy + zz) / 4
    return jnp.asarray(h, dtype=dtype)


def tfim_bond(g, dtype=None) -> Float[Array, "4 4"]:
    r"""The bond operator of the square-lattice transverse-field Ising model
    $H = -\sum_{\langle ij\rangle} \sigma^z_i\sigma^z_j - g\sum_i \sigma^x_i$.

    Each site has four bonds, so its field is split over them:

    $$h = -\sigma^z\sigma^z - \frac g4\left(\sigma^x\otimes 1 + 1\otimes\sigma^x\right),$$

    and $\sum_{\langle ij\rangle} h_{ij} = H$ (two bonds per site). The quantum critical point is
    at $g_c = 3.04438(2)$ (Blöte and Deng, Phys. Rev. E 66, 066110 (2002)).

    **Arguments:**

    - `g`: the transverse field (a scalar; may be traced, e.g. to differentiate in `g`).
    - `dtype`: float dtype (default: JAX's default float).

    **Returns:** the $4\times4$ matrix $h$.
    """
    g = jnp.asarray(g, dtype=dtype)
    if g.ndim != 0:
        raise ValueError(f"tfim_bond: expected a scalar field g, got shape {g.shape}")
    zz = jnp.asarray(np.kron(_Z, _Z), dtype=g.dtype)
    x = jnp.asarray(np.kron(_X, _I) + np.kron(_I, _X), dtype=g.dtype)
    return -zz - g / 4 * x


def tfim_product_state_energy(g) -> float:
    r"""The lowest energy per site of a product state (the $D = 1$ iPEPS) for the square-lattice
    transverse-field Ising model of `tfim_bond`, exactly.

    With every spin along $(\sin\theta, 0, \cos\theta)$ the energy per site is
    $-2\cos^2\theta - g\sin\theta$, minimal at $\sin\theta = \min(g/4, 1)$:

    $$e_1(g) = -2 - g^2/8 \quad (g \le 4), \qquad e_1(g) = -g \quad (g \ge 4).$$
    """
    g = abs(float(g))
    return -2.0 - g * g / 8.0 if g <= 4.0 else -g


def ipeps_initial_tensor(
    key, bond_dim: int, *, state=(1.0, 0.0), noise: float = 1e-2, dtype=None
) -> Float[Array, "2 D D D D"]:
    r"""A start for `diffsci.tn.optimize_ipeps`: a product state plus small C4v-symmetric noise.

    $A^s_{uldr} = \phi_s\,\delta_{u0}\delta_{l0}\delta_{d0}\delta_{r0} + \epsilon\,\xi^s_{uldr}$
    with $\xi$ Gaussian (symmetrized by `ipeps_energy`). A product state alone is a saddle point
    for many models; the noise lets the gradient leave it.

    **Arguments:**

    - `key`: a JAX PRNG key.
    - `bond_dim`: the virtual bond dimension $D$.
    - `state`: the one-site spinor $\phi$ (real), e.g. `(1, 0)` for the (rotated) Néel state,
      `(1, 1)` for the state polarized along $x$.
    - `noise`: the scale $\epsilon$ of the noise.
    - `dtype`: float dtype.

    **Returns:** a `(2, D, D, D, D)` tensor.
    """
    if not isinstance(bond_dim, int) or bond_dim < 1:
        raise ValueError(f"ipeps_initial_tensor: bond_dim must be an integer >= 1, got {bond_dim}")
    dtype = jnp.zeros(0, dtype=dtype).dtype
    phi = jnp.asarray(state, dtype=dtype)
    if phi.shape != (2,):
        raise ValueError(f"ipeps_initial_tensor: state must have 2 components, got {phi.shape}")
    a = jnp.zeros((2,) + (bond_dim,) * 4, dtype).at[:, 0, 0, 0, 0].set(phi / jnp.linalg.norm(phi))
    return a + noise * jax.random.normal(key, a.shape, dtype)


def heisenberg_ipeps(
    bond_dim: int, chi: int, *, key=None, steps: int = 100, noise: float = 1e-2, **kwargs
):
    r"""Variational ground state of the square-lattice spin-1/2 Heisenberg antiferromagnet with a
    single-site C4v iPEPS (Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019)).

    Starts from the Néel state (in the rotated frame of `heisenberg_bond`) plus noise and runs
    `diffsci.tn.optimize_ipeps`. Compare `result.energy` with `HEISENBERG_IPEPS_REFERENCE[D]` and
    with the QMC value `HEISENBERG_QMC_ENERGY`.

    **Arguments:**

    - `bond_dim`: $D$; `chi`: the environment dimension.
    - `key`: PRNG key of the initial noise (default `jax.random.key(0)`).
    - `steps`, `noise`, `**kwargs`: passed to `optimize_ipeps` / `ipeps_initial_tensor`.

    **Returns:** the `diffsci.tn.IPEPSResult`.
    """
    from diffsci.tn import optimize_ipeps

    key = jax.random.key(0) if key is None else key
    a0 = ipeps_initial_tensor(key, bond_dim, state=(1.0, 0.0), noise=noise)
    return optimize_ipeps(a0, heisenberg_bond(dtype=a0.dtype), chi, steps=steps, **kwargs)


def tfim_ipeps(
    g, bond_dim: int, chi: int, *, key=None, steps: int = 100, noise: float = 1e-2, **kwargs
):
    r"""Variational ground state of the square-lattice transverse-field Ising model
    (`tfim_bond`) with a single-site C4v iPEPS, started from the best product state plus noise.

    **Arguments:** as for `heisenberg_ipeps`, plus the field `g`.

    **Returns:** the `diffsci.tn.IPEPSResult`.
    """
    from diffsci.tn import optimize_ipeps

    key = jax.random.key(0) if key is None else key
    s = min(abs(float(g)) / 4.0, 1.0)
    theta = float(np.arcsin(s))
    state = (float(np.cos(theta / 2)), float(np.sin(theta / 2)))  # <Z> = cos, <X> = sin theta
    a0 = ipeps_initial_tensor(key, bond_dim, state=state, noise=noise)
    return optimize_ipeps(a0, tfim_bond(g, dtype=a0.dtype), chi, steps=steps, **kwargs)
