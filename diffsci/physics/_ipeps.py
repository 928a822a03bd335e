r"""Square-lattice spin models for the single-site C4v iPEPS of `diffsci.tn`: bond Hamiltonians,
initial tensors and reference energies.

The Hamiltonians are written as $H = \sum_{\langle ij\rangle} h_{ij}$ over nearest-neighbour bonds
(two per site), with one-site terms split evenly over the four bonds of a site; `h` is a
$4\times 4$ real matrix with rows $(s_1, s_2)$ and columns $(s_1', s_2')$, basis
$|{\uparrow}\rangle = (1, 0)$, $|{\downarrow}\rangle = (0, 1)$.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from diffsci._internal._c4v import C4V_SITE
from diffsci._internal._validate import check, fail, float_array, nonzero_finite, static_int

from ._model_checks import (
    flag,
    float_dtype,
    prng_key,
    real_number,
    real_scalar,
)

__all__ = [
    "HEISENBERG_IPEPS_REFERENCE",
    "HEISENBERG_QMC_ENERGY",
    "heisenberg_bond",
    "heisenberg_ipeps",
    "ipeps_initial_tensor",
    "pad_ipeps_tensor",
    "published_ipeps_tensor",
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

# (an explicit dtype: numpy's stubs type `np.kron` of an array of unknown dtype as boolean)
_X = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float64)
_Y_IM = np.array([[0.0, -1.0], [1.0, 0.0]], dtype=np.float64)  # sigma^y = i * _Y_IM
_Z = np.array([[1.0, 0.0], [0.0, -1.0]], dtype=np.float64)
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

    Checked: `rotated` a bool, `dtype` float32 or float64 (an integer dtype would truncate the
    entries $\pm 1/4$ to zero).

    **Returns:** the $4\times4$ matrix $h$.
    """
    flag(rotated, "rotated", "heisenberg_bond")
    dtype = float_dtype(dtype, "dtype", "heisenberg_bond")
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
    - `dtype`: float dtype (default: the dtype of `g`, or JAX's default float).

    Checked: `g` a real scalar (integers promoted; a runtime check that it is finite), `dtype`
    float32 or float64.

    **Returns:** the $4\times4$ matrix $h$.
    """
    if not isinstance(g, str) and g is not None and np.ndim(g) != 0:
        fail(
            "tfim_bond",
            "g",
            "to be a real scalar (one uniform transverse field, a scalar field)",
            f"shape {np.shape(g)}",
            described=True,
        )
    g = real_scalar(g, "g", "tfim_bond", dtype=dtype)
    zz = jnp.asarray(np.kron(_Z, _Z), dtype=g.dtype)
    x = jnp.asarray(np.kron(_X, _I) + np.kron(_I, _X), dtype=g.dtype)
    return -zz - g / 4 * x


def tfim_product_state_energy(g) -> float:
    r"""The lowest energy per site of a product state (the $D = 1$ iPEPS) for the square-lattice
    transverse-field Ising model of `tfim_bond`, exactly.

    With every spin along $(\sin\theta, 0, \cos\theta)$ the energy per site is
    $-2\cos^2\theta - g\sin\theta$, minimal at $\sin\theta = \min(g/4, 1)$:

    $$e_1(g) = -2 - g^2/8 \quad (g \le 4), \qquad e_1(g) = -g \quad (g \ge 4).$$

    Checked: `g` a finite static real number (the energy is even in $g$).
    """
    g = abs(real_number(g, "g", "tfim_product_state_energy"))
    return -2.0 - g * g / 8.0 if g <= 4.0 else -g


def ipeps_initial_tensor(
    key,
    bond_dim: int,
    *,
    state=(1.0, 0.0),
    noise: Float[ArrayLike, ""] = 1e-2,
    dtype=None,
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
    - `noise`: the scale $\epsilon \ge 0$ of the noise; `noise=0` gives the product state
      itself (a saddle point for many models).
    - `dtype`: float dtype.

    Checked: `key` a PRNG key, `bond_dim` an integer $\ge 1$, `state` two real components, not
    both zero, `noise` $\ge 0$, `dtype` float32 or float64; the values of a traced `state` or
    `noise` (finite, nonzero, non-negative) at run time.

    **Returns:** a `(2, D, D, D, D)` tensor.
    """
    who = "ipeps_initial_tensor"
    key = prng_key(key, "key", who)
    bond_dim = static_int(bond_dim, "bond_dim", who, minimum=1)
    dtype = float_dtype(dtype, "dtype", who)
    phi = float_array(state, "state", who, shape=(2,)).astype(dtype)
    # a zero (or non-finite) spinor has no direction: phi / |phi| would be NaN
    phi = nonzero_finite(phi, state, "state", who, "to be a finite spinor, not zero")
    if isinstance(noise, int | float | np.integer | np.floating) and not isinstance(noise, bool):
        noise = real_number(noise, "noise", who, minimum=0.0, strict=False)
    else:
        noise = real_scalar(noise, "noise", who, dtype=dtype)
        noise = check(noise, noise < 0, f"{who}: expected `noise` to be >= 0")
    a = jnp.zeros((2,) + (bond_dim,) * 4, dtype).at[:, 0, 0, 0, 0].set(phi / jnp.linalg.norm(phi))
    if isinstance(noise, float) and noise == 0.0:
        return a  # the product state itself: no draw needed
    return a + noise * jax.random.normal(key, a.shape, dtype)


def published_ipeps_tensor(bond_dim: int, dtype=None) -> Float[Array, "2 D D D D"]:
    r"""The published variational single-site C4v iPEPS of the square-lattice Heisenberg
    antiferromagnet at bond dimension $D = 2, 3, 4$ (J. Hasik, D. Poilblanc, F. Becca, SciPost
    Phys. 10, 012 (2021), data set github.com/jurajHasik/j1j2_ipeps_states, J2 = 0).

    The tensor $A^s_{uldr}$ is in the sublattice-rotated frame of `heisenberg_bond`, legs
    `(s, u, l, d, r)` as in `diffsci.tn.ipeps_energy`, $C_{4v}$ invariant, with its largest
    entry 1 (as published, not normalized). The authors optimized it with CTMRG environments of
    dimension $\chi = 48$ ($D = 2$), $108$ ($D = 3$) and $97$ ($D = 4$); its energy per site
    converged in $\chi$ is `HEISENBERG_IPEPS_REFERENCE[D]`. A reference state to compare an
    optimization with, or a starting point (see `pad_ipeps_tensor`).

    **Arguments:**

    - `bond_dim`: $D$, one of 2, 3, 4.
    - `dtype`: float dtype (default: JAX's default float).

    Checked: `bond_dim` one of the published 2, 3, 4; `dtype` float32 or float64.

    **Returns:** the `(2, D, D, D, D)` tensor.
    """
    from ._ipeps_data import ORBITS

    who = "published_ipeps_tensor"
    bond_dim = static_int(bond_dim, "bond_dim", who)
    if bond_dim not in ORBITS:
        raise ValueError(
            f"{who}: published states exist for bond_dim in {sorted(ORBITS)}, got {bond_dim!r}"
        )
    dtype = float_dtype(dtype, "dtype", who)
    a = np.zeros((2,) + (bond_dim,) * 4)
    for s, *legs, value in ORBITS[bond_dim]:
        for p in C4V_SITE:  # the group as permutations of the axes (s, u, l, d, r)
            a[(s, *(legs[i - 1] for i in p[1:]))] = value
    return jnp.asarray(a, dtype=dtype)


def pad_ipeps_tensor(
    a: Float[ArrayLike, "p D D D D"], bond_dim: int, *, key=None, noise: float = 0.0
) -> Float[Array, "p D2 D2 D2 D2"]:
    r"""Embed a site tensor in a larger bond dimension, as the start of an optimization there.

    $A'^s_{uldr} = A^s_{uldr}$ for $u, l, d, r < D$ and $0$ otherwise, plus
    $\epsilon\,\lVert A\rVert\,\xi$ with $\xi$ Gaussian when `noise` $= \epsilon > 0$. Without
    noise $A'$ is the same state as $A$ (the new virtual states are never reached), and the
    energy gradient along the new entries vanishes (they enter at second order): an
    optimization started from the padded tensor needs the noise to use them.

    **Arguments:**

    - `a`: site tensor `(p, D, D, D, D)`, e.g. an optimum at bond dimension $D$.
    - `bond_dim`: the new bond dimension $D' \ge D$.
    - `key`: PRNG key of the noise (required when `noise > 0`).
    - `noise`: relative scale $\epsilon$ of the noise (a static number $\ge 0$).

    Checked: `a` a real tensor of shape `(p, D, D, D, D)` (integers promoted; a runtime check
    that it is finite), `bond_dim` an integer $\ge D$, `noise` a finite number $\ge 0$, `key` a
    PRNG key when `noise > 0`.

    **Returns:** the `(p, D', D', D', D')` tensor, dtype of `a`.
    """
    who = "pad_ipeps_tensor"
    a = float_array(a, "a", who)
    if a.ndim != 5 or len(set(a.shape[1:])) != 1 or 0 in a.shape:
        fail(
            who,
            "a",
            "to be a site tensor A[s, u, l, d, r] with four nonempty virtual legs of "
            "one dimension D",
            f"shape {a.shape}",
            described=True,
        )
    bond_dim = static_int(bond_dim, "bond_dim", who)
    if bond_dim < a.shape[1]:
        raise ValueError(
            f"{who}: bond_dim must be an integer >= the bond dimension "
            f"{a.shape[1]} of `a`, got {bond_dim!r}"
        )
    noise = real_number(noise, "noise", who, minimum=0.0, strict=False)
    a = check(a, ~jnp.all(jnp.isfinite(a)), f"{who}: `a` has NaN or infinite entries")
    out = jnp.pad(a, [(0, 0)] + [(0, bond_dim - a.shape[1])] * 4)
    if noise > 0:
        if key is None:
            raise ValueError(f"{who}: noise > 0 needs a PRNG `key`, got key=None")
        key = prng_key(key, "key", who)
        scale = noise * jnp.sqrt(jnp.sum(a * a))
        out = out + scale * jax.random.normal(key, out.shape, out.dtype)
    return out


def _check_driver(who, bond_dim, chi, key, steps, noise):
    """The arguments the iPEPS drivers share, checked before anything runs."""
    bond_dim = static_int(bond_dim, "bond_dim", who, minimum=1)
    chi = static_int(chi, "chi", who, minimum=1)
    if bond_dim == 1 and chi != 1:
        fail(
            who,
            "chi",
            "to be 1 for bond_dim = 1 (a product state has an environment of bond dimension 1)",
            chi,
        )
    static_int(steps, "steps", who, minimum=1)
    prng_key(key, "key", who)
    real_number(noise, "noise", who, minimum=0.0, strict=False)


def heisenberg_start(
    bond_dim: int, chi: int, *, key, noise: float, init: str | ArrayLike, steps: int, **kwargs
) -> Float[Array, "2 D D D D"]:
    """The initial tensor of `heisenberg_ipeps` for its `init` (see there); `"smaller"` runs the
    optimization at D - 1 with `chi`, `steps` and `**kwargs` (options of `optimize_ipeps`).
    Shared with the `ipeps` command line."""
    _check_driver("heisenberg_ipeps", bond_dim, chi, key, steps, noise)
    if isinstance(init, str):
        if init == "neel":
            a0 = ipeps_initial_tensor(key, bond_dim, state=(1.0, 0.0), noise=noise)
        elif init == "random":
            from diffsci.tn import symmetrize_c4v

            a0 = symmetrize_c4v(jax.random.normal(key, (2,) + (bond_dim,) * 4))
        elif init == "published":
            from ._ipeps_data import ORBITS

            if bond_dim not in ORBITS:
                raise ValueError(
                    f"heisenberg_ipeps: init='published' needs a published bond_dim "
                    f"in {sorted(ORBITS)}, got {bond_dim}"
                )
            a = published_ipeps_tensor(bond_dim)
            a0 = pad_ipeps_tensor(a / jnp.linalg.norm(a), bond_dim, key=key, noise=noise)
        elif init == "smaller":
            if bond_dim < 3:
                raise ValueError(
                    f"heisenberg_ipeps: init='smaller' needs bond_dim >= 3, got {bond_dim}"
                )
            inner = dict(kwargs)
            if inner.get("checkpoint_dir") is not None:
                inner["checkpoint_dir"] = Path(inner["checkpoint_dir"]) / f"D{bond_dim - 1}"
            smaller = heisenberg_ipeps(
                bond_dim - 1,
                chi,
                key=jax.random.fold_in(key, bond_dim - 1),
                steps=steps,
                noise=noise,
                init="smaller" if bond_dim > 3 else "neel",
                **inner,
            )
            a0 = pad_ipeps_tensor(smaller.tensor, bond_dim, key=key, noise=noise)
        else:
            raise ValueError(
                "heisenberg_ipeps: init must be 'neel', 'random', 'published', 'smaller' or a "
                f"site tensor, got {init!r}"
            )
    else:
        who = "heisenberg_ipeps"
        a = float_array(init, "init", who)
        if (
            a.ndim != 5
            or a.shape[0] != 2
            or len(set(a.shape[1:])) != 1
            or not 1 <= a.shape[1] <= bond_dim
        ):
            fail(
                who,
                "init",
                f"to be 'neel', 'random', 'published', 'smaller' or a site tensor "
                f"of shape (2, D', D', D', D') with 1 <= D' <= bond_dim = {bond_dim}",
                f"shape {a.shape}",
                described=True,
            )
        # it is normalized: a zero tensor would give NaN
        a = nonzero_finite(a, init, "init", who, "to be a finite, nonzero site tensor")
        a0 = pad_ipeps_tensor(a, bond_dim, key=key, noise=noise)
        a0 = a0 / jnp.linalg.norm(a0)
    return a0


def heisenberg_ipeps(
    bond_dim: int,
    chi: int,
    *,
    key=None,
    steps: int = 100,
    noise: float = 1e-2,
    init: str | ArrayLike = "neel",
    **kwargs,
):
    r"""Variational ground state of the square-lattice spin-1/2 Heisenberg antiferromagnet with a
    single-site C4v iPEPS (Liao, Liu, Wang, Xiang, PRX 9, 031041 (2019)).

    Builds a start (`init`) and runs `diffsci.tn.optimize_ipeps` with the sublattice-rotated
    bond of `heisenberg_bond`. Compare `result.energy` with `HEISENBERG_IPEPS_REFERENCE[D]` and
    with the QMC value `HEISENBERG_QMC_ENERGY`.

    **Arguments:**

    - `bond_dim`: $D$; `chi`: the environment dimension.
    - `key`: PRNG key of the initial noise (default `jax.random.key(0)`).
    - `init`: the start.
        - `"neel"` (default): the Néel state plus Gaussian noise of scale `noise`
          (`ipeps_initial_tensor`).
        - `"random"`: a C4v-symmetrized tensor of independent standard normal entries drawn
          with `key` (`noise` unused). Different keys land in different minima: run several
          and keep the best (see Local minima below).
        - `"published"`: the published state of `published_ipeps_tensor(D)`, normalized, plus
          noise of relative scale `noise` (a check that the optimizer does not leave it).
        - `"smaller"`: the optimum at $D - 1$ (found the same way, with the same `chi`, `steps`
          and options, down to $D = 2$ from the Néel state), padded to $D$ with noise of
          relative scale `noise` (`pad_ipeps_tensor`); its checkpoints go to the subfolder
          `D{D-1}` of `checkpoint_dir`.
        - a site tensor of bond dimension $D' \le D$, e.g. `result.tensor` of a run at $D - 1$:
          padded to $D$ with noise of relative scale `noise` (`pad_ipeps_tensor`). Warm starts
          from the optimum one bond dimension lower are the usual protocol at larger $D$.
    - `steps`, `noise`, `**kwargs`: passed to `optimize_ipeps` / the initial tensor.

    Checked before anything runs: `bond_dim`, `chi` and `steps` integers $\ge 1$ (`chi = 1`
    for `bond_dim = 1`, a product state), `key` a PRNG key, `noise` a finite number $\ge 0$,
    `init` one of the names above or a nonzero site tensor; the rest by `optimize_ipeps`.

    **Returns:** the `diffsci.tn.IPEPSResult`.

    **Local minima.** At $D = 3$ the energy has more than one local minimum, and
    different starts (`"neel"`, `"smaller"`, random keys) can converge to different ones: run
    several random starts and keep the lowest energy (docs/ipeps.md records which starts reached
    which minimum). Compare results at a larger $\chi$ than the optimization's: at small $\chi$
    an optimization can lower the truncated energy without improving the state.
    """
    from diffsci.tn import optimize_ipeps

    key = jax.random.key(0) if key is None else key
    a0 = heisenberg_start(bond_dim, chi, key=key, noise=noise, init=init, steps=steps, **kwargs)
    return optimize_ipeps(a0, heisenberg_bond(dtype=a0.dtype), chi, steps=steps, **kwargs)


def tfim_ipeps(
    g, bond_dim: int, chi: int, *, key=None, steps: int = 100, noise: float = 1e-2, **kwargs
):
    r"""Variational ground state of the square-lattice transverse-field Ising model
    (`tfim_bond`) with a single-site C4v iPEPS, started from the best product state plus noise.

    **Arguments:** as for `heisenberg_ipeps`, plus the field `g`.

    Checked: `g` a finite static real number, and the arguments as for `heisenberg_ipeps`.

    **Returns:** the `diffsci.tn.IPEPSResult`.
    """
    from diffsci.tn import optimize_ipeps

    key = jax.random.key(0) if key is None else key
    g = real_number(g, "g", "tfim_ipeps")
    _check_driver("tfim_ipeps", bond_dim, chi, key, steps, noise)
    s = min(abs(g) / 4.0, 1.0)
    theta = float(np.arcsin(s))
    state = (float(np.cos(theta / 2)), float(np.sin(theta / 2)))  # <Z> = cos, <X> = sin theta
    a0 = ipeps_initial_tensor(key, bond_dim, state=state, noise=noise)
    return optimize_ipeps(a0, tfim_bond(g, dtype=a0.dtype), chi, steps=steps, **kwargs)
