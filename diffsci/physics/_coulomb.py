"""The Coulomb gas in a harmonic trap: energy and ground states from many starts."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from diffsci._internal._results import RESULTS
from diffsci._internal._validate import check, fail, finite, float_array, static_int

from ._model_checks import prng_key, real_number


def _pair_inverse_distances(x, softening, who="coulomb_energy", check=True):
    """Sum over pairs i < j of 1/sqrt(|x_i - x_j|^2 + softening^2), finite gradient on the diagonal.

    The diagonal (i = j) has |x_i - x_i| = 0 exactly. sqrt has an infinite derivative at 0, so
    even a masked-out diagonal would poison the gradient with 0 * inf = NaN. The double-where trick
    replaces the argument of sqrt on masked entries by 1 *before* the sqrt, and the result by 0
    after it: the masked entries then contribute exact zeros to the value and to every derivative.
    """
    n = x.shape[0]
    diff = x[:, None, :] - x[None, :, :]
    r2 = jnp.sum(diff * diff, axis=-1) + softening**2
    upper = jnp.asarray(np.triu(np.ones((n, n), dtype=bool), k=1))
    if check:
        # Guard r2 itself (not the energy): it feeds the value and every derivative, so the check
        # cannot be dead-code-eliminated from a gradient computation.
        r2 = eqx.error_if(
            r2,
            jnp.any(upper & (r2 == 0)),
            f"{who}: two particles coincide, the Coulomb energy is infinite; "
            + (
                "pass `softening > 0` for a regularized energy, or "
                if who == "coulomb_energy"
                else ""
            )
            + "start from distinct positions",
        )
    safe_r2 = jnp.where(upper, r2, jnp.ones_like(r2))
    inv_r = jnp.where(upper, jax.lax.rsqrt(safe_r2), jnp.zeros_like(r2))
    return jnp.sum(inv_r)


def coulomb_energy(
    x: Float[Array, "n d"], *, softening: float | Float[Array, ""] = 0.0
) -> Float[Array, ""]:
    r"""Energy of the Coulomb gas in a harmonic trap.

    $$H(x) = \sum_{i<j} \frac{1}{|x_i - x_j|} + \sum_i |x_i|^2 .$$

    This is the Hamiltonian of the lectures the library grew from (unit charges, trap strength 1).
    Its gradient is finite at every configuration of distinct particles, in any dimension. The
    diagonal of the pair matrix is handled with the double-`where` trick, so no NaN leaks into
    derivatives.

    At coincident particles the energy is infinite. With `softening = 0` (the default) this raises
    an `equinox.error_if` error instead of returning a silent `inf`/`NaN`. With `softening = ε > 0`
    the pair term is the documented regularization $1/\sqrt{|x_i - x_j|^2 + ε^2}$ (Plummer
    softening), finite everywhere; it changes the energy by $O(ε^2/r^3)$ per pair.

    **Arguments:**

    - `x`: positions, shape `(n, d)`, floating dtype (the result has the same dtype).
    - `softening`: the regularization length ε (default 0: the exact Coulomb energy).

    **Returns:**

    The energy, a scalar.

    **Raises:**

    `ValueError` if `x` is not a real array of shape `(n, d)` (integers are promoted) or a
    concrete `softening` is negative or not finite; an `equinox` runtime error when `x` has NaN
    or infinite entries, when a traced `softening` is negative or not finite, and when two
    particles coincide and `softening` is 0.
    """
    who = "coulomb_energy"
    x = _positions(x, who)
    if isinstance(softening, int | float | np.integer | np.floating) and not isinstance(
        softening, bool
    ):
        softening = real_number(softening, "softening", who, minimum=0.0, strict=False)
    else:
        softening = float_array(softening, "softening", who, shape=())
        softening = check(
            softening,
            ~(jnp.isfinite(softening) & (softening >= 0)),
            f"{who}: expected `softening` to be non-negative and finite",
        )
    return _energy(x, jnp.asarray(softening, x.dtype), who)


def _positions(x, who):
    """Positions as a real `(n, d)` array (integers promoted), with a runtime check that they
    are finite."""
    x = float_array(x, "x", who)
    if x.ndim != 2:
        fail(
            who,
            "x",
            "to have shape (n, d) (n particles in d dimensions)",
            f"shape {x.shape}",
            described=True,
        )
    return finite(x, "x", who)


def _energy(x, softening, who):
    """The energy of `coulomb_energy` with no argument checks (the coincidence check stays, with
    the message of `who`)."""
    pair = _pair_inverse_distances(x, softening, who)
    return pair + jnp.sum(x * x)


def coulomb_virial(x: Float[Array, "n d"]) -> Float[Array, ""]:
    r"""The virial observable $2 V_\mathrm{trap} - V_\mathrm{Coulomb} = x \cdot \nabla H$.

    At inverse temperature β its canonical average is exactly $N d / β$ (integrate
    $\nabla \cdot (x\, e^{-βH}) $ over all space), for any $N$ and $d$: an unbiasedness test for
    any sampler of the Coulomb gas. At a minimum of $H$ it vanishes, which gives the ground-state
    virial identity $E_0 = 3 \sum_i |x_i|^2$.

    **Arguments:**

    - `x`: positions, shape `(n, d)`.

    Checked: `x` a real array of shape `(n, d)` (integers promoted), with runtime checks that
    it is finite and that no two particles coincide.

    **Returns:**

    $2 \sum_i |x_i|^2 - \sum_{i<j} 1/|x_i - x_j|$, a scalar.
    """
    x = _positions(x, "coulomb_virial")
    pair = _pair_inverse_distances(x, jnp.zeros((), x.dtype), "coulomb_virial")
    return 2 * jnp.sum(x * x) - pair


class CoulombGroundState(eqx.Module):
    """The lowest minimum of the Coulomb gas found from many random starts.

    **Fields:**

    - `energy`: the lowest energy found (scalar).
    - `positions`: its positions, shape `(n, d)`.
    - `hessian_eigenvalues`: the spectrum of the Hessian of $H$ at `positions`, ascending,
      shape `(n d,)`. A true minimum has no negative eigenvalue; the centre-of-mass modes give
      the eigenvalue 2 (d-fold) and the breathing mode 6; rotations give zeros.
    - `energies`: the final energy of every start, shape `(starts,)`.
    - `result`: the outcome of the minimizer for each start, a [`diffsci.utils.RESULTS`][]
      member batched over the starts (optimistix's outcomes map through unchanged:
      `successful`, `nonlinear_max_steps_reached`, `nonfinite`, ...).
    - `steps`: the number of minimizer steps each start took, shape `(starts,)`.
    - `converged` (a property): `result == RESULTS.successful`, shape `(starts,)`.
    - `stats` (a property): `{"steps": ...}`, the counts every result record of diffsci carries
      under that name.
    """

    energy: Float[Array, ""]
    positions: Float[Array, "n d"]
    hessian_eigenvalues: Float[Array, " nd"]
    energies: Float[Array, " starts"]
    result: RESULTS
    steps: Int[Array, " starts"]

    @property
    def converged(self) -> Bool[Array, " starts"]:
        return self.result == RESULTS.successful

    @property
    def stats(self) -> dict:
        return {"steps": self.steps}


def coulomb_hessian_eigenvalues(x: Float[Array, "n d"]) -> Float[Array, " nd"]:
    """Eigenvalues (ascending) of the Hessian of `coulomb_energy` at positions `x`, shape (n, d).

    Checked: `x` a real array of shape `(n, d)` (integers promoted), with runtime checks that it
    is finite and that no two particles coincide."""
    x = _positions(x, "coulomb_hessian_eigenvalues")
    return _hessian_eigenvalues(x, "coulomb_hessian_eigenvalues")


def _hessian_eigenvalues(x, who):
    n, d = x.shape
    flat_energy = lambda y: _energy(y.reshape(n, d), jnp.zeros((), y.dtype), who)
    return jnp.linalg.eigvalsh(jax.hessian(flat_energy)(x.reshape(-1)))


def coulomb_ground_state(
    n: int,
    dim: int,
    *,
    key: PRNGKeyArray,
    starts: int = 16,
    max_steps: int = 2000,
    rtol: float = 1e-12,
    atol: float = 1e-12,
    sharding: jax.sharding.Sharding | None = None,
) -> CoulombGroundState:
    r"""Ground state of the trapped Coulomb gas by BFGS from many random starts in parallel.

    Each start draws positions from a Gaussian whose width is the scale of the ground state,
    $\sim (n/4)^{1/3}$, and is minimized with `optimistix.BFGS`; the starts run in parallel under
    `jax.vmap`. The lowest final energy is returned with its positions and the Hessian spectrum
    there (a minimum, not a saddle, has no negative eigenvalue).

    **Arguments:**

    - `n`: number of particles (at least 2).
    - `dim`: spatial dimension (at least 1).
    - `key`: the random key for the starts.
    - `starts`: number of random starts minimized in parallel.
    - `max_steps`: step limit of each BFGS run.
    - `rtol`, `atol`: BFGS termination tolerances.
    - `sharding`: optional `jax.sharding.Sharding` for the batch of starts (for example
      `diffsci.utils.batch_sharding()`), to spread the starts over devices. The result does not
      depend on it.

    **Returns:**

    A [`diffsci.physics.CoulombGroundState`][].

    Runs in the default float precision: enable float64 (`jax_enable_x64`) for energies to 1e-10.

    Checked: `n` an integer $\ge 2$, `dim`, `starts` and `max_steps` integers $\ge 1$, `key` a
    PRNG key, `rtol` and `atol` finite numbers $\ge 0$, `sharding` a `jax.sharding.Sharding` or
    `None`.
    """
    who = "coulomb_ground_state"
    n = static_int(n, "n", who)
    if n < 2:
        fail(who, "n", "to satisfy n >= 2 (at least two particles)", n)
    dim = static_int(dim, "dim", who, minimum=1)
    key = prng_key(key, "key", who)
    starts = static_int(starts, "starts", who, minimum=1)
    max_steps = static_int(max_steps, "max_steps", who, minimum=1)
    rtol = real_number(rtol, "rtol", who, minimum=0.0, strict=False)
    atol = real_number(atol, "atol", who, minimum=0.0, strict=False)
    if sharding is not None and not isinstance(sharding, jax.sharding.Sharding):
        fail(who, "sharding", "to be a jax.sharding.Sharding or None", sharding, TypeError)
    scale = 0.7 * (n / 4) ** (1 / 3)
    x0 = scale * jax.random.normal(key, (starts, n * dim), dtype=jnp.result_type(float))
    if sharding is not None:
        from ._samplers import _place

        x0 = _place(x0, sharding)
    return _ground_state(x0, n, dim, max_steps, rtol, atol)


@eqx.filter_jit
def _ground_state(x0, n, dim, max_steps, rtol, atol):
    solver = optx.BFGS(rtol=rtol, atol=atol)
    fn = lambda y, args: _energy(y.reshape(n, dim), jnp.zeros((), y.dtype), "coulomb_ground_state")

    def minimize(y0):
        sol = optx.minimise(fn, solver, y0, max_steps=max_steps, throw=False)
        return sol.value, RESULTS.promote(sol.result), sol.stats["num_steps"]

    ys, result, steps = jax.vmap(minimize)(x0)
    energies = jax.vmap(lambda y: fn(y, None))(ys)
    energies = jnp.where(jnp.isfinite(energies), energies, jnp.inf)
    best = jnp.argmin(energies)
    positions = ys[best].reshape(n, dim)
    return CoulombGroundState(
        energy=energies[best],
        positions=positions,
        hessian_eigenvalues=_hessian_eigenvalues(positions, "coulomb_ground_state"),
        energies=energies,
        result=result,
        steps=steps,
    )
