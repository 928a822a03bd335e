"""What the truncations of TRG and HOTRG kept: a diagnostic of the multiplet-aware cut."""

from __future__ import annotations

import functools

import equinox as eqx
from jaxtyping import Array, Float, Int

from ._common import check_multiplet_rtol, check_rg_arguments, check_tensor_values, run_rg
from ._hotrg import _hotrg_step
from ._trg import _trg_step

_STEPS = {"trg": _trg_step, "hotrg": _hotrg_step}


class TruncationInfo(eqx.Module):
    """What every coarse-graining step of `diffsci.tn.trg` or `diffsci.tn.hotrg` kept.

    **Fields** (each of shape `(steps,)`, one entry per step):

    - `kept_rank`: the number of states kept, at most χ: χ minus the members of a multiplet that
      the cut would have split, and minus numerically zero values (for TRG, the smaller of its
      two splits). Where nothing is truncated (the first steps, while the bond still grows) it is
      the full bond dimension.
    - `dropped`: the number of states among the χ largest that were dropped because the cut
      would have split their multiplet (numerical zeros, also dropped, are not counted).
    - `gap`: the gap between the last kept and the first discarded value of the truncated
      spectrum, relative to its largest value (singular values for TRG, eigenvalues of the
      environment for HOTRG); 1 where nothing is truncated. The derivative of the step scales as
      1/`gap`; a gap at or below `multiplet_rtol` means that the whole kept block was one
      multiplet with the first discarded state, which could not be dropped (then the truncation
      has no derivative).
    """

    kept_rank: Int[Array, " steps"]
    dropped: Int[Array, " steps"]
    gap: Float[Array, " steps"]


def truncation_info(
    tensor: Float[Array, "dx dx dy dy"],
    chi: int,
    steps: int = 30,
    *,
    method: str = "hotrg",
    multiplet_rtol: float | None = None,
) -> TruncationInfo:
    r"""Run `diffsci.tn.trg` or `diffsci.tn.hotrg` and report what each truncation kept.

    Each truncation keeps at most χ states and never splits a multiplet of its spectrum: where
    the χ-th and the (χ+1)-th values are closer than `multiplet_rtol` times the largest one,
    the kept members of that multiplet are dropped too (see the docs page on tensor networks,
    "Truncation and multiplets"). This function tells how many states that left, step by step.
    Jittable and `vmap`-able (`chi`, `steps` and `method` static). Checks `tensor` as
    `diffsci.tn.trg` does (NaN and zero tensors at run time), but not the sign of Z.

    **Arguments:**

    - `tensor`, `chi`, `steps`, `multiplet_rtol`: as for `diffsci.tn.trg` and `diffsci.tn.hotrg`.
    - `method`: `"hotrg"` or `"trg"`.

    **Returns:**

    A `TruncationInfo` with the kept rank, the number of dropped states and the relative gap at
    the cut of every step.
    """
    try:
        step = _STEPS[method]
    except (KeyError, TypeError):
        raise ValueError(
            f"truncation_info: method must be one of {sorted(_STEPS)}, got {method!r}"
        ) from None
    tensor = check_rg_arguments("truncation_info", tensor, chi, steps)
    rtol = check_multiplet_rtol("truncation_info", multiplet_rtol)
    tensor = check_tensor_values("truncation_info", tensor)
    step = functools.partial(step, chi=int(chi), rtol=rtol)
    _, cuts = run_rg(step, tensor, int(steps), checkpoint=False)
    return TruncationInfo(cuts.kept_rank, cuts.dropped, cuts.gap)
