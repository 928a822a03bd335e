"""ln Z per site of the 2D Ising model by a tensor renormalization group."""

from __future__ import annotations

from jaxtyping import Array, ArrayLike, Float

from ._common import check_chi_steps, check_multiplet_rtol
from ._hotrg import hotrg
from ._models import ising_tensor, scalar_parameters
from ._trg import trg

_METHODS = {"trg": trg, "hotrg": hotrg}


def ising_log_z(
    beta: Float[ArrayLike, ""],
    h: Float[ArrayLike, ""] = 0.0,
    *,
    chi: int,
    method: str = "hotrg",
    steps: int = 30,
    checkpoint: bool = True,
    multiplet_rtol: float | None = None,
) -> Float[Array, ""]:
    r"""ln Z / N of the square-lattice Ising model
    $E = -\sum_{\langle ij\rangle} s_i s_j - h \sum_i s_i$ on $2^{\text{steps}}$ sites, by TRG or
    HOTRG.

    Differentiable in `beta` and `h` to any order (`jax.grad`, `jax.hessian`, `jax.jvp`), which
    gives the thermodynamics (per site):

    - energy $u = -\partial_\beta \ln Z/N$,
    - specific heat $C = \beta^2 \partial_\beta^2 \ln Z/N$,
    - magnetization $m = \beta^{-1} \partial_h \ln Z/N$,
    - susceptibility $\chi_m = \beta^{-1} \partial_h^2 \ln Z/N$.

    Use float64 (`jax.config.update("jax_enable_x64", True)`): the accuracies below are below
    float32's resolution.

    **Arguments:**

    - `beta`: inverse temperature (the critical point is $\beta_c = \tfrac12\ln(1+\sqrt2)$).
    - `h`: magnetic field.
    - `chi`: bond dimension χ, an upper bound on the number of states kept at each truncation
      (members of a degenerate multiplet that χ would split are dropped; see
      `diffsci.tn.hotrg` and `diffsci.tn.truncation_info`).
    - `method`: `"hotrg"` (Xie et al. 2012; more accurate at the same χ) or `"trg"` (Levin and
      Nave 2007).
    - `steps`: coarse-graining steps; the lattice is a torus of $2^{\text{steps}}$ sites (the
      default 30 is the thermodynamic limit to ~1e-9 even at $T_c$).
    - `checkpoint`: recompute each RG step in the backward pass to bound memory.
    - `multiplet_rtol`: relative tolerance below which values of a truncated spectrum form one
      multiplet (default `None`, 1e-10).

    **Checks:** `beta` and `h` real scalars (integers promoted), `chi`, `steps`, `method` at
    trace time; a NaN or infinite `beta` or `h` raises at run time (`equinox.error_if`).

    **Returns:**

    ln Z / N, a scalar.

    Measured accuracy of ln Z / N at $T_c$ against Onsager (30 steps): TRG χ = 16: 4e-6; HOTRG
    χ = 16: 5e-7 (see the benchmark page). Away from $T_c$ it is better by orders of magnitude.
    """
    who = "ising_log_z"
    try:
        engine = _METHODS[method]
    except (KeyError, TypeError):
        raise ValueError(
            f"ising_log_z: method must be one of {sorted(_METHODS)}, got {method!r}"
        ) from None
    check_chi_steps(who, chi, steps)
    check_multiplet_rtol(who, multiplet_rtol)
    # Checked here (NaN or infinite beta or h raise from ising_log_z, before the RG sees them).
    beta, h = scalar_parameters(who, beta=beta, h=h)
    return engine(
        ising_tensor(beta, h), chi, steps, checkpoint=checkpoint, multiplet_rtol=multiplet_rtol
    )
