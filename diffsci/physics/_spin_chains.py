r"""Matrix-free spin-chain Hamiltonians on $2^L$-dimensional state vectors.

**Conventions** (shared by everything in this module):

- Operators are written with **Pauli matrices** $\sigma^{x,y,z}$ (eigenvalues $\pm 1$), not
  spin-1/2 operators $S = \sigma/2$. The Heisenberg chain $\sum_i \vec S_i\cdot\vec S_{i+1}$ is
  therefore `XXZChain` with `J = 1/4`, `Delta = 1`.
- A state is a vector of length $2^L$ (or any array with $2^L$ entries). Site $i$
  ($0 \le i < L$) is axis $i$ of `psi.reshape((2,) * L)`, i.e. bit $L-1-i$ of the flat index:
  the same order as `kron(op_0, op_1, ..., op_{L-1})`. Local state 0 is spin up
  ($\sigma^z = +1$), local state 1 spin down.
- Bond $b$ joins sites $b$ and $b+1$; with `periodic=True` the last bond $b = L-1$ joins sites
  $L-1$ and $0$. An open chain has $L-1$ bonds, a periodic one $L$.

Operators act by axis flips of the reshaped state ($\sigma^x_i$) and diagonal sign patterns
computed from bit operations on the index ($\sigma^z_i$), so an application costs $O(L\,2^L)$
time and $O(2^L)$ memory; nothing of size $2^L \times 2^L$ is ever formed.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float, Inexact

__all__ = [
    "TransverseFieldIsing",
    "XXZChain",
    "expect_x",
    "expect_z",
    "correlation_zz",
]


def _num_sites_of(psi, num_sites):
    if psi.size != 2**num_sites:
        raise ValueError(
            f"expected a state of 2**{num_sites} = {2**num_sites} entries, got shape "
            f"{tuple(psi.shape)}"
        )


def _flip(v, site, num_sites):
    """Apply sigma^x at `site` to a flat state `v`."""
    lead = 2**site
    trail = 2 ** (num_sites - 1 - site)
    return jnp.flip(v.reshape(lead, 2, trail), axis=1).reshape(-1)


def _z(site, num_sites, idx):
    """The sigma^z eigenvalue (+1 up, -1 down) of `site` for each basis index."""
    bit = (idx >> (num_sites - 1 - site)) & 1
    return 1 - 2 * bit


def _bonds(num_sites, periodic):
    last = num_sites if periodic else num_sites - 1
    return [(b, (b + 1) % num_sites) for b in range(last)]


def _check_sites(name, num_sites, periodic):
    if not isinstance(num_sites, int) or num_sites < 2:
        raise ValueError(f"{name}: `num_sites` must be an integer >= 2, got {num_sites!r}")
    if periodic and num_sites < 3:
        raise ValueError(f"{name}: a periodic chain needs at least 3 sites, got {num_sites}")


def _param(params, name, size, model):
    if name not in params:
        raise ValueError(f"{model}: `params` has no entry {name!r}; expected keys {list(params)}")
    x = jnp.asarray(params[name])
    if x.shape != (size,):
        raise ValueError(f"{model}: `params[{name!r}]` must have shape ({size},), got {x.shape}")
    return x


class TransverseFieldIsing(eqx.Module):
    r"""The transverse-field Ising chain with site-dependent couplings and fields,

    $$H = -\sum_b J_b\,\sigma^z_{b}\sigma^z_{b+1} - \sum_i h_i\,\sigma^x_i$$

    (Pauli matrices; see the module conventions). Parameters are a dict
    `{"J": (num_bonds,), "h": (num_sites,)}`, made by `params(J, h)`. The uniform periodic chain
    with $J = 1$, $h = g$ is solved exactly by `tfim_exact`.

    **Arguments:**

    - `num_sites`: $L$, so states have $2^L$ entries.
    - `periodic`: periodic (`True`) or open (`False`) boundaries.
    """

    num_sites: int = eqx.field(static=True)
    periodic: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        _check_sites("TransverseFieldIsing", self.num_sites, self.periodic)

    @property
    def num_bonds(self) -> int:
        return self.num_sites if self.periodic else self.num_sites - 1

    @property
    def dim(self) -> int:
        return 2**self.num_sites

    def params(self, J=1.0, h=1.0, dtype=None) -> dict:
        """Parameters with coupling(s) `J` and field(s) `h`, scalars or per-bond/per-site arrays."""
        J = jnp.broadcast_to(jnp.asarray(J, dtype), (self.num_bonds,))
        h = jnp.broadcast_to(jnp.asarray(h, dtype), (self.num_sites,))
        return {"J": J, "h": h}

    def diagonal(self, params) -> Float[Array, " dim"]:
        """The diagonal $-\\sum_b J_b\\,\\sigma^z_b\\sigma^z_{b+1}$ as a vector."""
        L = self.num_sites
        J = _param(params, "J", self.num_bonds, "TransverseFieldIsing")
        idx = lax.iota(jnp.int32, 2**L)
        diag = jnp.zeros((2**L,), J.dtype)
        for b, (i, j) in enumerate(_bonds(L, self.periodic)):
            diag = diag - J[b] * (_z(i, L, idx) * _z(j, L, idx)).astype(J.dtype)
        return diag

    def matvec(self, params, v: Inexact[Array, "..."]) -> Inexact[Array, "..."]:
        """$H v$ for `v` with $2^L$ entries (any shape); the result has the shape of `v`."""
        L = self.num_sites
        _num_sites_of(v, L)
        h = _param(params, "h", L, "TransverseFieldIsing")
        x = v.reshape(-1)
        out = self.diagonal(params).astype(x.dtype) * x
        for i in range(L):
            out = out - h[i].astype(x.dtype) * _flip(x, i, L)
        return out.reshape(v.shape)

    __call__ = matvec


class XXZChain(eqx.Module):
    r"""The XXZ (Heisenberg for $\Delta = 1$) chain with site-dependent couplings and fields,

    $$H = \sum_b J_b\left(\sigma^x_b\sigma^x_{b+1} + \sigma^y_b\sigma^y_{b+1}
          + \Delta_b\,\sigma^z_b\sigma^z_{b+1}\right) + \sum_i h_i\,\sigma^z_i$$

    (Pauli matrices: $\vec S_i\cdot\vec S_j = \tfrac14\vec\sigma_i\cdot\vec\sigma_j$). $J_b > 0$
    is antiferromagnetic. Optional Peierls phases $\phi_b$ (key `"phi"`) replace the flip-flop
    term $2(\sigma^+_b\sigma^-_{b+1} + \mathrm{h.c.})$ by
    $2(e^{i\phi_b}\sigma^+_b\sigma^-_{b+1} + \mathrm{h.c.})$: a twisted (flux-threaded), complex
    Hermitian chain; then states must be complex. Parameters are a dict
    `{"J": (num_bonds,), "Delta": (num_bonds,), "h": (num_sites,)}` (+ `"phi": (num_bonds,)`),
    made by `params(J, Delta, h, phi=None)`.

    **Arguments:**

    - `num_sites`: $L$, so states have $2^L$ entries.
    - `periodic`: periodic (`True`) or open (`False`) boundaries.
    """

    num_sites: int = eqx.field(static=True)
    periodic: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        _check_sites("XXZChain", self.num_sites, self.periodic)

    @property
    def num_bonds(self) -> int:
        return self.num_sites if self.periodic else self.num_sites - 1

    @property
    def dim(self) -> int:
        return 2**self.num_sites

    def params(self, J=1.0, Delta=1.0, h=0.0, phi=None, dtype=None) -> dict:
        """Parameters from scalars or per-bond/per-site arrays; `phi=None` gives a real chain."""
        out = {
            "J": jnp.broadcast_to(jnp.asarray(J, dtype), (self.num_bonds,)),
            "Delta": jnp.broadcast_to(jnp.asarray(Delta, dtype), (self.num_bonds,)),
            "h": jnp.broadcast_to(jnp.asarray(h, dtype), (self.num_sites,)),
        }
        if phi is not None:
            out["phi"] = jnp.broadcast_to(jnp.asarray(phi, dtype), (self.num_bonds,))
        return out

    def matvec(self, params, v: Inexact[Array, "..."]) -> Inexact[Array, "..."]:
        """$H v$ for `v` with $2^L$ entries (any shape); the result has the shape of `v`."""
        L = self.num_sites
        nb = self.num_bonds
        _num_sites_of(v, L)
        J = _param(params, "J", nb, "XXZChain")
        Delta = _param(params, "Delta", nb, "XXZChain")
        h = _param(params, "h", L, "XXZChain")
        phi = _param(params, "phi", nb, "XXZChain") if "phi" in params else None
        if phi is not None and not jnp.issubdtype(v.dtype, jnp.complexfloating):
            raise ValueError("XXZChain: with Peierls phases `phi` the state must be complex")
        x = v.reshape(-1)
        rdtype = jnp.finfo(x.dtype).dtype
        idx = lax.iota(jnp.int32, 2**L)
        zs = [_z(i, L, idx).astype(rdtype) for i in range(L)]
        diag = jnp.zeros((2**L,), rdtype)
        for i in range(L):
            diag = diag + h[i].astype(rdtype) * zs[i]
        out = jnp.zeros_like(x)
        for b, (i, j) in enumerate(_bonds(L, self.periodic)):
            diag = diag + (J[b] * Delta[b]).astype(rdtype) * zs[i] * zs[j]
            anti = (1 - zs[i] * zs[j]).astype(rdtype)  # 2 where antiparallel, 0 where parallel
            if phi is None:
                coeff = J[b].astype(rdtype) * anti
            else:
                # output has site i up (z_i = +1): e^{i phi}; site i down: e^{-i phi}
                coeff = J[b] * anti * jnp.exp(1j * phi[b] * zs[i])
            out = out + coeff.astype(x.dtype) * _flip(_flip(x, i, L), j, L)
        out = out + diag.astype(x.dtype) * x
        return out.reshape(v.shape)

    __call__ = matvec


def _probabilities(psi, num_sites):
    _num_sites_of(psi, num_sites)
    x = psi.reshape(-1)
    return jnp.real(x * jnp.conj(x))


def expect_z(psi: Inexact[Array, "..."], num_sites: int) -> Float[Array, " L"]:
    r"""$\langle\sigma^z_i\rangle$ for every site of a normalized state with $2^L$ entries."""
    p = _probabilities(psi, num_sites)
    out = []
    for i in range(num_sites):
        q = p.reshape(2**i, 2, 2 ** (num_sites - 1 - i)).sum(axis=(0, 2))
        out.append(q[0] - q[1])
    return jnp.stack(out)


def expect_x(psi: Inexact[Array, "..."], num_sites: int) -> Float[Array, " L"]:
    r"""$\langle\sigma^x_i\rangle$ for every site of a normalized state with $2^L$ entries."""
    _num_sites_of(psi, num_sites)
    x = psi.reshape(-1)
    return jnp.stack(
        [jnp.real(jnp.vdot(x, _flip(x, i, num_sites))) for i in range(num_sites)]
    )


def correlation_zz(psi: Inexact[Array, "..."], num_sites: int, i: int, j: int) -> Array:
    r"""$\langle\sigma^z_i\sigma^z_j\rangle$ of a normalized state with $2^L$ entries."""
    p = _probabilities(psi, num_sites)
    idx = lax.iota(jnp.int32, 2**num_sites)
    zz = (_z(i, num_sites, idx) * _z(j, num_sites, idx)).astype(p.dtype)
    return jnp.sum(p * zz)
