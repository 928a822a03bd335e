r"""Hamiltonian engineering of spin chains: fit site-dependent couplings so that the ground state
has a prescribed magnetization profile, by gradient descent through `diffsci.linalg.eigsh`.

Shared by `examples/engineer_spin_chain.py` and `python -m diffsci engineer chain`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from diffsci._internal._results import RESULTS
from diffsci._internal._validate import fail, float_array, static_int
from diffsci.utils import PrintEvery, drive

from ..linalg import eigsh
from ._model_checks import callable_arg, flag, real_number
from ._spin_chains import TransverseFieldIsing, expect_x

__all__ = ["ChainEngineeringResult", "engineer_tfim_profile", "target_profile"]


def target_profile(kind: str, num_sites: int) -> np.ndarray:
    r"""A target profile of $\langle\sigma^x_i\rangle$ on `num_sites` sites.

    - `"cosine"`: $0.55 + 0.3\cos(2\pi i/(L-1))$, high at the ends and low in the middle;
    - `"ramp"`: linear from 0.25 to 0.85;
    - `"step"`: 0.3 on the left half, 0.8 on the right half.

    Checked: `kind` one of these, `num_sites` an integer $\ge 2$.
    """
    if not isinstance(kind, str) or kind not in ("cosine", "ramp", "step"):
        fail(
            "target_profile",
            "kind",
            "to be 'cosine', 'ramp' or 'step' (unknown kind)",
            kind,
            TypeError if not isinstance(kind, str) else ValueError,
        )
    num_sites = static_int(num_sites, "num_sites", "target_profile", minimum=2)
    i = np.arange(num_sites)
    x = i / max(num_sites - 1, 1)
    if kind == "cosine":
        return 0.55 + 0.3 * np.cos(2 * np.pi * x)
    if kind == "ramp":
        return 0.25 + 0.6 * x
    if kind == "step":
        return np.where(i < num_sites // 2, 0.3, 0.8)
    raise AssertionError(kind)  # unreachable: checked above


class ChainEngineeringResult(eqx.Module):
    """The outcome of `engineer_tfim_profile`.

    **Fields:** `couplings` $J_b$ `(L-1,)`, `fields` $h_i$ `(L,)`, `profile` the achieved
    $\\langle\\sigma^x_i\\rangle$, `target`, `losses` per step, `energy` the final $E_0$,
    `result` (a [`diffsci.utils.RESULTS`][] member: `max_steps_reached` after all steps,
    `successful` when a callback stopped the run) and `stats` (the driver's counts, see
    [`diffsci.utils.RunResult`][]).
    """

    couplings: Float[Array, " nb"]
    fields: Float[Array, " L"]
    profile: Float[Array, " L"]
    target: Float[Array, " L"]
    losses: Float[Array, " steps"]
    energy: Float[Array, ""]
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.max_steps_reached)
    stats: dict = eqx.field(default_factory=dict)


def engineer_tfim_profile(
    target: Float[Array, " L"],
    *,
    steps: int = 80,
    learning_rate: float = 0.08,
    periodic: bool = False,
    callback: Callable[[int, float, np.ndarray], None] | None = None,
    print_every: int = 10,
    callbacks: Sequence[Callable] = (),
    log: str | Path | bool | None = None,
    progress: bool = False,
) -> ChainEngineeringResult:
    r"""Find couplings $J_b > 0$ and fields $h_i > 0$ of the transverse-field Ising chain
    $H = -\sum_b J_b\sigma^z_b\sigma^z_{b+1} - \sum_i h_i\sigma^x_i$ whose ground state has
    $\langle\sigma^x_i\rangle$ = `target[i]`.

    Minimizes $\frac1L\sum_i(\langle\psi_0|\sigma^x_i|\psi_0\rangle - t_i)^2$ with Adam over
    $J = \mathrm{softplus}(a)$, $h = \mathrm{softplus}(b)$. The gradient comes from reverse mode
    through `eigsh` (one projected linear solve per step, no dense matrix: $L = 20$ is within
    reach). Each step starts Lanczos from the previous ground state.

    **Arguments:**

    - `target`: the wanted profile, shape `(L,)`, entries in $(0, 1)$.
    - `steps`, `learning_rate`: Adam's iterations and step size.
    - `periodic`: periodic or open chain.
    - `callback`: called as `callback(step, loss, profile)` after every step.
    - `print_every`: print progress every this many steps (0: silent).
    - `callbacks`: callables `callback(run)` called after every step with the
      [`diffsci.utils.Run`][] (`run.record` holds `loss`, `energy` and `profile`); one that
      returns `True` stops the run ([`diffsci.utils.Callback`][]).
    - `log`: a path for a JSON-lines log ([`diffsci.utils.JSONLinesLog`][]), or `None`/`False`.
    - `progress`: show a progress bar with the loss on stderr.

    The loop is [`diffsci.utils.drive`][] (one step per Adam update).

    Checked before the first step: `target` a real vector of $L \ge 2$ entries ($\ge 3$ when
    periodic; integers promoted) in $(0, 1)$ when concrete, `steps` an integer $\ge 1$,
    `learning_rate` a finite number $> 0$, `periodic` a bool, `callback` callable or `None`,
    `print_every` an integer $\ge 0$.

    **Returns:**

    A `ChainEngineeringResult`.
    """
    who = "engineer_tfim_profile"
    target = float_array(target, "target", who, ndim=1)
    periodic = flag(periodic, "periodic", who)
    L = int(target.shape[0])
    if L < (3 if periodic else 2):
        fail(
            who,
            "target",
            f"to have at least {3 if periodic else 2} entries (one per site of "
            f"{'a periodic' if periodic else 'an open'} chain)",
            f"shape {target.shape}",
            described=True,
        )
    if not isinstance(target, jax.core.Tracer):
        t = np.asarray(target)
        if not np.all((t > 0) & (t < 1)):
            got = (
                f"entries in [{float(t.min())!r}, {float(t.max())!r}]"
                if np.all(np.isfinite(t))
                else "NaN or infinite entries"
            )
            fail(
                who,
                "target",
                "to have entries in (0, 1) (a ground-state <sigma^x_i> of "
                "positive couplings and fields)",
                got,
                described=True,
            )
    steps = static_int(steps, "steps", who, minimum=1)
    learning_rate = real_number(learning_rate, "learning_rate", who, minimum=0.0)
    callable_arg(callback, "callback", who, optional=True)
    print_every = static_int(print_every, "print_every", who, minimum=0)
    model = TransverseFieldIsing(L, periodic=periodic)
    inv_softplus = lambda y: jnp.log(jnp.expm1(y))
    theta = {
        "a": jnp.full((model.num_bonds,), inv_softplus(1.0), target.dtype),
        "b": jnp.full((L,), inv_softplus(1.0), target.dtype),
    }

    def couplings(theta):
        return model.params(
            jax.nn.softplus(theta["a"]), jax.nn.softplus(theta["b"]), validate=False
        )

    def loss_fn(theta, v0):
        r = eigsh(model.matvec, couplings(theta), v0)
        psi = r.eigenvectors[:, 0]
        profile = expect_x(psi, L, validate=False)  # eigsh's eigenvector: normalized
        return jnp.mean((profile - target) ** 2), (profile, psi, r.eigenvalues[0])

    opt = optax.adam(learning_rate)

    @jax.jit
    def step(theta, state, v0):
        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(theta, v0)
        updates, state = opt.update(grads, state, theta)
        return optax.apply_updates(theta, updates), state, loss, aux

    def one(carry, i):
        theta, state, v0 = carry
        theta, state, loss, (profile, psi, energy) = step(theta, state, v0)
        record = {"loss": float(loss), "energy": float(energy), "profile": np.asarray(profile)}
        return (theta, state, psi), record

    def called(run):
        if callback is not None:
            callback(run.step - 1, run.record["loss"], run.record["profile"])

    printed = []
    if print_every:
        printed = [PrintEvery(print_every, "step {step:4d}  loss {loss:.3e}  E0 {energy:+.6f}")]
    v0 = jnp.ones((model.dim,), target.dtype) / np.sqrt(model.dim)
    out = drive(
        one,
        (theta, opt.init(theta), v0),
        num_steps=steps,
        callbacks=[called, *printed, *callbacks],
        log=log,
        progress=progress,
        desc="engineer",
        postfix=lambda carry, record: {"loss": f"{record['loss']:.3e}"},
        caller=who,
    )
    theta, _, v0 = out.state
    losses = out.history["loss"]
    # the profile of the final parameters
    _, (profile, _, energy) = loss_fn(theta, v0)
    p = couplings(theta)
    return ChainEngineeringResult(
        couplings=p["J"],
        fields=p["h"],
        profile=profile,
        target=target,
        losses=jnp.asarray(losses),
        energy=energy,
        result=out.result,  # pyright: ignore[reportArgumentType]
        stats=out.stats,
    )
