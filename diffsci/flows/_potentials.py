r"""Scalar potentials $\varphi(x, t)$ whose gradient field drives a Monge-Ampère flow.

A potential is any callable `phi(x, t) -> scalar` on a flat vector `x` of shape `(D,)` (an
`equinox.Module` when it has parameters to train). Subclasses of `AbstractPotential` may also
give the gradient and the Laplacian in closed form (`grad_and_laplacian`), which
`diffsci.flows.ExactLaplacian` then uses instead of automatic differentiation.

Symmetries of the target density are imposed on the potential: if $\varphi(Rx, t) =
\varphi(x, t)$ for an orthogonal $R$ then $\nabla\varphi$ is $R$-equivariant, the flow commutes
with $R$, and a symmetric base density (the standard normal) is carried to a symmetric density.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from diffsci._internal._validate import choice, fail, static_int

from ._checks import flag, float_dtype, prng_key


class AbstractPotential(eqx.Module):
    r"""A scalar potential $\varphi(x, t)$ on $\mathbb R^D$.

    Subclasses implement `__call__(x, t) -> scalar` for `x` of shape `(D,)` and a scalar `t`.
    Those that know $\nabla\varphi$ and $\nabla^2\varphi$ in closed form set
    `has_analytic_laplacian` to `True` and implement `grad_and_laplacian(x, t)`.
    """

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " D"], t) -> Float[Array, ""]:
        raise NotImplementedError

    @property
    def has_analytic_laplacian(self) -> bool:
        return False

    def grad_and_laplacian(self, x, t):
        """`(grad phi(x, t), laplacian phi(x, t))` in closed form (only when
        `has_analytic_laplacian`)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form Laplacian; use ExactLaplacian(), which "
            "falls back to automatic differentiation"
        )


# Activations with their first and second derivatives, for closed-form Laplacians.
def _softplus(z):
    s = jax.nn.sigmoid(z)
    return jax.nn.softplus(z), s, s * (1 - s)


def _tanh(z):
    th = jnp.tanh(z)
    return th, 1 - th**2, -2 * th * (1 - th**2)


def _logcosh(z):
    th = jnp.tanh(z)
    return jnp.logaddexp(z, -z) - math.log(2.0), th, 1 - th**2


_ACTIVATIONS: dict[str, Callable] = {
    "softplus": _softplus,
    "tanh": _tanh,
    "logcosh": _logcosh,
}


def _check_activation(name, who):
    choice(name, "activation", who, tuple(_ACTIVATIONS))


class OneLayerPotential(AbstractPotential):
    r"""One hidden layer plus a quadratic and a linear term, with a closed-form Laplacian.

    $$\varphi(x, t) = \sum_{k=1}^K a_k\,\sigma(w_k\cdot x + b_k + c_k t)
      + \tfrac12\sum_i q_i x_i^2 + \ell\cdot x,$$

    $$\nabla\varphi = \sum_k a_k\,\sigma'(z_k)\,w_k + q\odot x + \ell,\qquad
      \nabla^2\varphi = \sum_k a_k\,\sigma''(z_k)\,\lVert w_k\rVert^2 + \sum_i q_i,$$

    with $z_k = w_k\cdot x + b_k + c_k t$: the Laplacian costs $O(KD)$, the same as the
    gradient. The quadratic term alone generates the linear flow $x(t) = e^{qt} x(0)$ (a
    Gaussian stays Gaussian), so a Gaussian target is represented exactly.

    **Arguments:**

    - `dim`: $D$.
    - `width`: $K$, the number of hidden units.
    - `activation`: $\sigma$: `"softplus"` (default), `"tanh"` or `"logcosh"` (even).
    - `key`: a JAX PRNG key for the initial weights ($w \sim N(0, 1/D)$, $b, c \sim N(0, 1)$,
      small $a$, $q = \ell = 0$: the flow starts close to the identity).
    - `dtype`: float32 or float64 (default: JAX's default float).

    Checks: `dim` is an integer >= 1, `width` >= 0 (0 leaves the quadratic and linear terms, a
    linear flow), `activation` one of the names above, `key` a JAX PRNG key.
    """

    w: Float[Array, "K D"]
    b: Float[Array, " K"]
    c: Float[Array, " K"]
    a: Float[Array, " K"]
    q: Float[Array, " D"]
    lin: Float[Array, " D"]
    activation: str = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        width: int = 32,
        *,
        activation: str = "softplus",
        key: PRNGKeyArray,
        dtype=None,
    ):
        who = "OneLayerPotential"
        dim = static_int(dim, "dim", who, minimum=1)
        width = static_int(width, "width", who, minimum=0)
        _check_activation(activation, who)
        prng_key(key, "key", who)
        dtype = float_dtype(dtype, "dtype", who)
        kw, kb, kc, ka = jr.split(key, 4)
        self.w = jr.normal(kw, (width, dim), dtype) / math.sqrt(dim)
        self.b = jr.normal(kb, (width,), dtype)
        self.c = jr.normal(kc, (width,), dtype)
        self.a = 0.1 * jr.normal(ka, (width,), dtype) / math.sqrt(max(width, 1))
        self.q = jnp.zeros((dim,), dtype)
        self.lin = jnp.zeros((dim,), dtype)
        self.activation = activation

    def _z(self, x, t):
        return self.w @ x + self.b + self.c * t

    def __call__(self, x, t):
        s, _, _ = _ACTIVATIONS[self.activation](self._z(x, t))
        return jnp.dot(self.a, s) + 0.5 * jnp.dot(self.q, x**2) + jnp.dot(self.lin, x)

    @property
    def has_analytic_laplacian(self) -> bool:
        return True

    def grad_and_laplacian(self, x, t):
        _, ds, d2s = _ACTIVATIONS[self.activation](self._z(x, t))
        grad = (self.a * ds) @ self.w + self.q * x + self.lin
        lap = jnp.dot(self.a * d2s, jnp.sum(self.w**2, axis=1)) + jnp.sum(self.q)
        return grad, lap


class SpinFlipSymmetric(AbstractPotential):
    r"""The $\mathbb Z_2$ (spin-flip) symmetrization $\varphi(x, t) = g(x, t) + g(-x, t)$.

    Even in $x$ for any $g$, so the flow commutes with $x \to -x$. Closed forms carry over:
    $\nabla\varphi(x) = \nabla g(x) - \nabla g(-x)$, $\nabla^2\varphi(x) = \nabla^2 g(x) +
    \nabla^2 g(-x)$. (An alternative with half the cost is a one-layer potential with an even
    activation and no bias, e.g. `"logcosh"`; this wrapper works for any inner potential.)

    **Arguments:**

    - `inner`: the potential $g$.

    Checks: `inner` is callable.
    """

    inner: Callable

    def __check_init__(self):
        if not callable(self.inner):
            fail(
                "SpinFlipSymmetric",
                "inner",
                "to be a callable potential g(x, t)",
                self.inner,
                TypeError,
            )

    def __call__(self, x, t):
        return self.inner(x, t) + self.inner(-x, t)

    @property
    def has_analytic_laplacian(self) -> bool:
        return bool(getattr(self.inner, "has_analytic_laplacian", False))

    def grad_and_laplacian(self, x, t):
        g1, l1 = self.inner.grad_and_laplacian(x, t)
        g2, l2 = self.inner.grad_and_laplacian(-x, t)
        return g1 - g2, l1 + l2


class PermutationInvariantPotential(AbstractPotential):
    r"""A Deep Sets potential of $N$ identical particles in $d$ dimensions.

    $x$ of shape `(N*d,)` is read as positions $x_i \in \mathbb R^d$ (row-major), and

    $$\varphi(x, t) = \rho\Bigl(\frac1N\sum_{i=1}^N h(x_i, t),\ t\Bigr)
      + \tfrac12 q\,\lVert x\rVert^2,$$

    with MLPs $h: \mathbb R^{d+1} \to \mathbb R^m$ and $\rho: \mathbb R^{m+1} \to \mathbb R$.
    Invariant under every permutation of the particles (Zaheer et al., "Deep Sets", 2017), so
    the flow is permutation equivariant. No closed-form Laplacian (`ExactLaplacian` uses
    automatic differentiation, $D$ Hessian-vector products).

    **Arguments:**

    - `num_particles`: $N$.
    - `particle_dim`: $d$.
    - `width`: $m$ and the hidden width of both MLPs.
    - `key`: a JAX PRNG key.
    - `dtype`: float32 or float64 (default: JAX's default float).

    Checks: `num_particles`, `particle_dim` and `width` are integers >= 1, `key` a JAX PRNG key.
    """

    h: eqx.nn.MLP
    rho: eqx.nn.MLP
    q: Float[Array, ""]
    num_particles: int = eqx.field(static=True)
    particle_dim: int = eqx.field(static=True)

    def __init__(
        self,
        num_particles: int,
        particle_dim: int,
        width: int = 16,
        *,
        key: PRNGKeyArray,
        dtype=None,
    ):
        who = "PermutationInvariantPotential"
        num_particles = static_int(num_particles, "num_particles", who, minimum=1)
        particle_dim = static_int(particle_dim, "particle_dim", who, minimum=1)
        width = static_int(width, "width", who, minimum=1)
        prng_key(key, "key", who)
        dtype = float_dtype(dtype, "dtype", who)
        k1, k2 = jr.split(key)
        self.h = eqx.nn.MLP(
            particle_dim + 1, width, width, 1, activation=jax.nn.softplus, key=k1, dtype=dtype
        )
        rho = eqx.nn.MLP(
            width + 1, "scalar", width, 1, activation=jax.nn.softplus, key=k2, dtype=dtype
        )
        # start near the identity map
        self.rho = eqx.tree_at(lambda m: m.layers[-1].weight, rho, rho.layers[-1].weight * 0.1)
        self.q = jnp.zeros((), dtype)
        self.num_particles = num_particles
        self.particle_dim = particle_dim

    def __call__(self, x, t):
        pos = x.reshape(self.num_particles, self.particle_dim)
        tt = jnp.full((self.num_particles, 1), t, x.dtype)
        pooled = jnp.mean(jax.vmap(self.h)(jnp.concatenate([pos, tt], axis=1)), axis=0)
        return self.rho(jnp.append(pooled, t)) + 0.5 * self.q * jnp.sum(x**2)


_DENSE_MAX_SITES = 1024


def _d4_symmetrize(kernel: Array) -> Array:
    """Average of a (k, k) kernel over the 8 symmetries of the square (rotations, reflections)."""
    rots = [jnp.rot90(kernel, r) for r in range(4)]
    # the builtin `sum` of arrays is typed `Array | Literal[0]`; the list is never empty
    return cast(Array, sum(rots + [r.T for r in rots])) / 8


class LatticeConvPotential(AbstractPotential):
    r"""A translation-invariant potential on a periodic 2D lattice, with a closed-form Laplacian.

    $x$ of shape `(L1*L2,)` is a field on an $L_1\times L_2$ periodic lattice. With $C$ periodic
    convolutions $h_c(s) = \sum_u K_c(u)\,x(s + u)$ ($k\times k$ kernels, offsets $u$ centred),

    $$\varphi(x, t) = \sum_c a_c\sum_s \sigma\bigl(h_c(s) + b_c + e_c t\bigr)
      + \tfrac12 q\lVert x\rVert^2,\qquad
      \nabla^2\varphi = \sum_c a_c\lVert K_c\rVert^2\sum_s\sigma''\bigl(h_c(s) + b_c + e_c t\bigr)
      + qD.$$

    Invariant under lattice translations (the sum over sites); with `rotations=True` the kernels
    are averaged over the 8 symmetries of the square (needs $L_1 = L_2$), which makes $\varphi$
    invariant under lattice rotations and reflections as well. Wrap it in `SpinFlipSymmetric` for
    the $\mathbb Z_2$ symmetry of Ising-like fields.

    With `global_channels` $G > 0$ it adds functions of the uniform mode $M = \sum_s x(s)/\sqrt D$,
    $\sum_{g=1}^G \alpha_g\,\sigma(w_g M + c_g + d_g t)$ (Laplacian
    $\sum_g \alpha_g w_g^2\sigma''$): a lattice-wide degree of freedom that a $k\times k$
    convolution cannot build, needed near $T_c$, where the magnetization of a finite lattice is
    bimodal. It keeps every symmetry above.

    **Arguments:**

    - `shape`: $(L_1, L_2)$.
    - `channels`: $C$.
    - `kernel_size`: $k$ (odd, at most $\min(L_1, L_2)$).
    - `activation`: $\sigma$: `"softplus"` (default), `"tanh"` or `"logcosh"`.
    - `rotations`: impose the point-group symmetry of the square lattice.
    - `global_channels`: $G$, the number of functions of the uniform mode (default 0).
    - `key`: a JAX PRNG key.
    - `dtype`: float32 or float64 (default: JAX's default float).

    Checks: `shape` is a pair of integers >= 1, `channels` an integer >= 1, `kernel_size` odd,
    >= 1 and at most `min(shape)`, `global_channels` >= 0, `activation` one of the names above,
    `rotations` a bool (and the lattice square when it is true), `key` a JAX PRNG key.
    """

    kernel: Float[Array, "C k k"]
    b: Float[Array, " C"]
    e: Float[Array, " C"]
    a: Float[Array, " C"]
    q: Float[Array, ""]
    global_w: Float[Array, " G"]
    global_b: Float[Array, " G"]
    global_e: Float[Array, " G"]
    global_a: Float[Array, " G"]
    shape: tuple[int, int] = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    rotations: bool = eqx.field(static=True)

    def __init__(
        self,
        shape: tuple[int, int],
        channels: int = 4,
        kernel_size: int = 3,
        *,
        activation: str = "softplus",
        rotations: bool = False,
        global_channels: int = 0,
        key: PRNGKeyArray,
        dtype=None,
    ):
        who = "LatticeConvPotential"
        if not isinstance(shape, tuple | list) or len(shape) != 2:
            fail(
                who,
                "shape",
                "to be a pair (L1, L2)",
                repr(shape),
                ValueError if isinstance(shape, tuple | list) else TypeError,
                described=True,
            )
        shape = (
            static_int(shape[0], "shape", who, minimum=1),
            static_int(shape[1], "shape", who, minimum=1),
        )
        channels = static_int(channels, "channels", who, minimum=1)
        kernel_size = static_int(kernel_size, "kernel_size", who, minimum=1)
        if kernel_size % 2 != 1 or kernel_size > min(shape):
            fail(
                who, "kernel_size", f"to be odd and at most min(shape) = {min(shape)}", kernel_size
            )
        _check_activation(activation, who)
        rotations = flag(rotations, "rotations", who)
        if rotations and shape[0] != shape[1]:
            fail(
                who,
                "shape",
                "to be a square lattice (L1 = L2) with rotations=True",
                f"{shape}",
                described=True,
            )
        g = static_int(global_channels, "global_channels", who, minimum=0)
        prng_key(key, "key", who)
        dtype = float_dtype(dtype, "dtype", who)
        kk, kb, ke, ka, kg = jr.split(key, 5)
        self.kernel = jr.normal(kk, (channels, kernel_size, kernel_size), dtype) / kernel_size
        self.b = jr.normal(kb, (channels,), dtype)
        self.e = jr.normal(ke, (channels,), dtype)
        self.a = 0.1 * jr.normal(ka, (channels,), dtype) / math.sqrt(channels * shape[0] * shape[1])
        self.q = jnp.zeros((), dtype)
        kw, kb2, ke2, ka2 = jr.split(kg, 4)
        self.global_w = jr.normal(kw, (g,), dtype)
        self.global_b = jr.normal(kb2, (g,), dtype)
        self.global_e = jr.normal(ke2, (g,), dtype)
        self.global_a = 0.1 * jr.normal(ka2, (g,), dtype) / math.sqrt(max(g, 1))
        self.shape = shape
        self.activation = activation
        self.rotations = rotations

    def _kernels(self):
        if self.rotations:
            return jax.vmap(_d4_symmetrize)(self.kernel)
        return self.kernel

    def _offsets(self):
        r = self.kernel.shape[-1] // 2
        k = self.kernel.shape[-1]
        return [(i, j, i - r, j - r) for i in range(k) for j in range(k)]

    def _dense(self, kernels):
        """The convolutions as matrices, `M[c, s, d] = K_c(d - s)` (periodic): `h_c = M_c x`."""
        l1, l2 = self.shape
        rows, cols, taps = [], [], []
        for i, j, di, dj in self._offsets():
            a, b = np.meshgrid(np.arange(l1), np.arange(l2), indexing="ij")
            rows.append((a * l2 + b).ravel())
            cols.append((((a + di) % l1) * l2 + (b + dj) % l2).ravel())
            taps.append(np.full(l1 * l2, i * kernels.shape[-1] + j))
        rows, cols, taps = (np.concatenate(v) for v in (rows, cols, taps))
        flat = kernels.reshape(kernels.shape[0], -1)
        m = jnp.zeros((kernels.shape[0], l1 * l2, l1 * l2), kernels.dtype)
        return m.at[:, rows, cols].add(flat[:, taps])

    def _use_dense(self):
        # a dense (D, D) matrix per channel beats k*k shifted copies on small lattices (few large
        # operations instead of many small ones); the rolls win on large ones
        return self.shape[0] * self.shape[1] <= _DENSE_MAX_SITES

    def _pre(self, x, t):
        kernels = self._kernels()
        bias = (self.b + self.e * t)[:, None]
        if self._use_dense():
            m = self._dense(kernels)
            return jnp.einsum("csd,d->cs", m, x) + bias, (kernels, m)
        field = x.reshape(self.shape)
        h = jnp.zeros((kernels.shape[0],) + self.shape, x.dtype)
        for i, j, di, dj in self._offsets():
            shifted = jnp.roll(field, (-di, -dj), axis=(0, 1))  # x(s + u)
            h = h + kernels[:, i, j, None, None] * shifted[None]
        return h.reshape(kernels.shape[0], -1) + bias, (kernels, None)

    def _global(self, x, t):
        """sigma, sigma', sigma'' of w_g M + c_g + d_g t, M = sum(x) / sqrt(D)."""
        mode = jnp.sum(x) / math.sqrt(x.size)
        return _ACTIVATIONS[self.activation](
            self.global_w * mode + self.global_b + self.global_e * t
        )

    def __call__(self, x, t):
        z, _ = self._pre(x, t)
        s, _, _ = _ACTIVATIONS[self.activation](z)
        g, _, _ = self._global(x, t)
        return (
            jnp.dot(self.a, jnp.sum(s, axis=1))
            + 0.5 * self.q * jnp.sum(x**2)
            + jnp.dot(self.global_a, g)
        )

    @property
    def has_analytic_laplacian(self) -> bool:
        return True

    def grad_and_laplacian(self, x, t):
        z, (kernels, m) = self._pre(x, t)
        _, ds, d2s = _ACTIVATIONS[self.activation](z)
        g = self.a[:, None] * ds  # d phi / d h_c(s)
        if m is not None:
            grad = jnp.einsum("cs,csd->d", g, m)
        else:  # the transposed convolution: sum_u K(u) g(r - u)
            g = g.reshape((-1,) + self.shape)
            grad = jnp.zeros(self.shape, x.dtype)
            for i, j, di, dj in self._offsets():
                shifted = jnp.roll(g, (di, dj), axis=(1, 2))
                grad = grad + jnp.sum(kernels[:, i, j, None, None] * shifted, axis=0)
            grad = grad.ravel()
        _, dg, d2g = self._global(x, t)
        grad = grad + self.q * x + jnp.dot(self.global_a * dg, self.global_w) / math.sqrt(x.size)
        # the offsets are distinct modulo the sides (kernel_size <= min(shape)), so each row of
        # M_c holds each tap once and the Hessian's diagonal is sum_s sigma'' |K_c|^2
        norms = jnp.sum(kernels**2, axis=(1, 2))
        lap = (
            jnp.dot(self.a * norms, jnp.sum(d2s, axis=1))
            + self.q * x.size
            + jnp.dot(self.global_a * d2g, self.global_w**2)
        )
        return grad, lap
