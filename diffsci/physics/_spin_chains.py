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

import math
from collections.abc import Mapping

import equinox as eqx
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, ArrayLike, Float, Inexact

from diffsci._internal._validate import (
    check,
    fail,
    finite,
    float_array,
    index_in_range,
    static_int,
)

from ._model_checks import flag, float_dtype

__all__ = [
    "TransverseFieldIsing",
    "XXZChain",
    "expect_x",
    "expect_z",
    "correlation_zz",
]


def _state(v, num_sites, name, who):
    """`v` as a floating or complex array of $2^L$ entries (integers promoted), else an error."""
    v = float_array(v, name, who, complex_ok=True)
    if v.size != 2**num_sites:
        fail(
            who,
            name,
            f"to have 2**{num_sites} = {2**num_sites} entries (num_sites = {num_sites})",
            f"shape {tuple(v.shape)}",
            described=True,
        )
    return v


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


def _check_sites(who, num_sites, periodic):
    static_int(num_sites, "num_sites", who, minimum=2)
    flag(periodic, "periodic", who)
    if periodic and num_sites < 3:
        fail(
            who,
            "num_sites",
            "to be >= 3 for periodic=True (a periodic chain needs at least 3 "
            "sites: with 2 the two bonds would join the same pair)",
            num_sites,
        )


def _num_sites(num_sites, who):
    return static_int(num_sites, "num_sites", who, minimum=1)


def _param(params, name, size, model):
    who = f"{model}.matvec"
    if not isinstance(params, Mapping):
        fail(who, "params", "to be a dict of arrays (made by `params(...)`)", params, TypeError)
    if name not in params:
        fail(who, "params", f"to have an entry {name!r}", f"keys {list(params)}", described=True)
    return float_array(params[name], f"params[{name!r}]", who, shape=(size,))


def _broadcast(x, size, name, who, dtype, validate):
    """A scalar or an array of shape `(size,)` as an array of shape `(size,)`, promoted to a
    float dtype; with `validate`, a runtime check that it is finite."""
    a = float_array(x, name, who, dtype=dtype)
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != size):
        fail(
            who, name, f"to be a scalar or have shape ({size},)", f"shape {a.shape}", described=True
        )
    if dtype is not None:
        a = a.astype(dtype)
    a = jnp.broadcast_to(a, (size,))
    return finite(a, name, who) if validate else a


class TransverseFieldIsing(eqx.Module):
    r"""The transverse-field Ising chain with site-dependent couplings and fields,

    $$H = -\sum_b J_b\,\sigma^z_{b}\sigma^z_{b+1} - \sum_i h_i\,\sigma^x_i$$

    (Pauli matrices; see the module conventions). Parameters are a dict
    `{"J": (num_bonds,), "h": (num_sites,)}`, made by `params(J, h)`. The uniform periodic chain
    with $J = 1$, $h = g$ is solved exactly by `tfim_exact`.

    **Arguments:**

    - `num_sites`: $L$, so states have $2^L$ entries.
    - `periodic`: periodic (`True`) or open (`False`) boundaries.

    Checked: `num_sites` an integer $\ge 2$ ($\ge 3$ when periodic), `periodic` a bool.
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

    def params(
        self,
        J: Float[ArrayLike, "..."] = 1.0,
        h: Float[ArrayLike, "..."] = 1.0,
        dtype=None,
        *,
        validate: bool = True,
    ) -> dict:
        """Parameters with coupling(s) `J` and field(s) `h`, scalars or per-bond/per-site arrays.

        Checked: `J` a scalar or of shape `(num_bonds,)`, `h` a scalar or of shape
        `(num_sites,)`, `dtype` a float dtype; with `validate` (default) a runtime check that
        they are finite (switch it off where the parameters are rebuilt at every step of a
        loop)."""
        who = "TransverseFieldIsing.params"
        dtype = None if dtype is None else float_dtype(dtype, "dtype", who)
        J = _broadcast(J, self.num_bonds, "J", who, dtype, validate)
        h = _broadcast(h, self.num_sites, "h", who, dtype, validate)
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
        """$H v$ for `v` with $2^L$ entries (any shape); the result has the shape of `v`.

        Checked at trace time: `params` has the entries and shapes of `params(...)`, `v` has
        $2^L$ entries (integer `v` is promoted to the default float)."""
        L = self.num_sites
        v = _state(v, L, "v", "TransverseFieldIsing.matvec")
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

    Checked: `num_sites` an integer $\ge 2$ ($\ge 3$ when periodic), `periodic` a bool.
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

    def params(
        self, J=1.0, Delta=1.0, h=0.0, phi=None, dtype=None, *, validate: bool = True
    ) -> dict:
        """Parameters from scalars or per-bond/per-site arrays; `phi=None` gives a real chain.

        Checked: `J`, `Delta`, `phi` scalars or of shape `(num_bonds,)`, `h` a scalar or of
        shape `(num_sites,)`, `dtype` a float dtype; with `validate` (default) a runtime check
        that they are finite (switch it off where the parameters are rebuilt at every step of a
        loop)."""
        who = "XXZChain.params"
        dtype = None if dtype is None else float_dtype(dtype, "dtype", who)
        nb, L = self.num_bonds, self.num_sites
        out = {
            "J": _broadcast(J, nb, "J", who, dtype, validate),
            "Delta": _broadcast(Delta, nb, "Delta", who, dtype, validate),
            "h": _broadcast(h, L, "h", who, dtype, validate),
        }
        if phi is not None:
            out["phi"] = _broadcast(phi, nb, "phi", who, dtype, validate)
        return out

    def matvec(self, params, v: Inexact[Array, "..."]) -> Inexact[Array, "..."]:
        """$H v$ for `v` with $2^L$ entries (any shape); the result has the shape of `v`.

        Checked at trace time: `params` has the entries and shapes of `params(...)`, `v` has
        $2^L$ entries (integer `v` is promoted to the default float) and is complex when
        `params` has Peierls phases."""
        L = self.num_sites
        nb = self.num_bonds
        who = "XXZChain.matvec"
        v = _state(v, L, "v", who)
        J = _param(params, "J", nb, "XXZChain")
        Delta = _param(params, "Delta", nb, "XXZChain")
        h = _param(params, "h", L, "XXZChain")
        phi = _param(params, "phi", nb, "XXZChain") if "phi" in params else None
        if phi is not None and not jnp.issubdtype(v.dtype, jnp.complexfloating):
            fail(
                who,
                "v",
                "to be complex when `params` has Peierls phases `phi` (the twisted "
                "chain is complex Hermitian)",
                f"dtype {v.dtype}",
                described=True,
            )
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


def _normalized(psi, num_sites, who, validate):
    """The flat state; with `validate`, a runtime error unless it is finite and normalized
    (sum |psi|^2 = 1 within ten times the square root of the dtype's epsilon)."""
    x = _state(psi, num_sites, "psi", who).reshape(-1)
    if not validate:
        return x
    norm = jnp.sum(jnp.real(x * jnp.conj(x)))
    tol = 10 * math.sqrt(float(jnp.finfo(x.dtype).eps))
    return check(
        x,
        ~(jnp.abs(norm - 1) <= tol),
        f"{who}: expected `psi` to be a finite, normalized state (sum |psi|^2 = 1); "
        "divide it by its norm",
    )


def expect_z(
    psi: Inexact[Array, "..."], num_sites: int, *, validate: bool = True
) -> Float[Array, " L"]:
    r"""$\langle\sigma^z_i\rangle$ for every site of a normalized state with $2^L$ entries.

    Checked: `num_sites` an integer $\ge 1$, `psi` with $2^L$ entries (integers promoted); with
    `validate` (default) a runtime check that `psi` is finite and normalized.
    """
    who = "expect_z"
    num_sites = _num_sites(num_sites, who)
    x = _normalized(psi, num_sites, who, validate)
    p = jnp.real(x * jnp.conj(x))
    out = []
    for i in range(num_sites):
        q = p.reshape(2**i, 2, 2 ** (num_sites - 1 - i)).sum(axis=(0, 2))
        out.append(q[0] - q[1])
    return jnp.stack(out)


def expect_x(
    psi: Inexact[Array, "..."], num_sites: int, *, validate: bool = True
) -> Float[Array, " L"]:
    r"""$\langle\sigma^x_i\rangle$ for every site of a normalized state with $2^L$ entries.

    Checked: `num_sites` an integer $\ge 1$, `psi` with $2^L$ entries (integers promoted); with
    `validate` (default) a runtime check that `psi` is finite and normalized.
    """
    who = "expect_x"
    num_sites = _num_sites(num_sites, who)
    x = _normalized(psi, num_sites, who, validate)
    return jnp.stack([jnp.real(jnp.vdot(x, _flip(x, i, num_sites))) for i in range(num_sites)])


def correlation_zz(
    psi: Inexact[Array, "..."], num_sites: int, i: int, j: int, *, validate: bool = True
) -> Array:
    r"""$\langle\sigma^z_i\sigma^z_j\rangle$ of a normalized state with $2^L$ entries.

    Checked: `num_sites` an integer $\ge 1$, `psi` with $2^L$ entries (integers promoted), the
    sites `i`, `j` in $[0, L)$ (at once when they are Python integers, at run time when they are
    traced); with `validate` (default) a runtime check that `psi` is finite and normalized.
    """
    who = "correlation_zz"
    num_sites = _num_sites(num_sites, who)
    i = index_in_range(i, num_sites, "i", who)
    j = index_in_range(j, num_sites, "j", who)
    x = _normalized(psi, num_sites, who, validate)
    p = jnp.real(x * jnp.conj(x))
    idx = lax.iota(jnp.int32, 2**num_sites)
    zz = (_z(i, num_sites, idx) * _z(j, num_sites, idx)).astype(p.dtype)
    return jnp.sum(p * zz)
