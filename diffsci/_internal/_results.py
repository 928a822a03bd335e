"""One status enumeration for every solver and long run of diffsci (public in `diffsci.utils`).

`RESULTS` extends optimistix's enumeration (which extends lineax's), as optimistix and diffrax do
theirs: the outcome of a linear or nonlinear solve inside a diffsci solver maps through unchanged
(`RESULTS.promote(solution.result)`), and diffsci adds the outcomes that only its solvers have.
A result is an `equinox.EnumerationItem`: compare it with `==` (`result == RESULTS.successful`, an
array, so it works under `jit` and `vmap`), read its message with `RESULTS[result]`, and its name
with `result_name(result)` (host side).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optimistix as optx


class RESULTS(optx.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """The outcomes of diffsci's solvers and long runs.

    From lineax and optimistix: `successful`, `max_steps_reached`, `singular`, `breakdown`,
    `stagnation`, `conlim`, `nonfinite_input`, `nonlinear_max_steps_reached`,
    `nonlinear_divergence`, `nonfinite`. Added by diffsci:

    - `not_c4v_symmetric`: a tensor that C4v CTMRG needs symmetric is not (`diffsci.tn.ctmrg`).
    - `ctmrg_failed`: an optimizer could not go on because CTMRG, or the linear solve of its
      derivative, failed at the starting point, or steps kept being rejected (CTMRG failed or the
      energy rose) several times in a row (`diffsci.tn.optimize_ipeps`).
    - `line_search_failed`: the line search found no lower value although the gradient is not
      small (`diffsci.tn.optimize_ipeps`).

    Each solver's result record says which of these it returns, and its documentation what each
    means for it; the message a solver raises with (`throw=True`) names the function called.
    """

    not_c4v_symmetric = "The tensor is not invariant under the C4v symmetry of the square."
    ctmrg_failed = (
        "CTMRG or the linear solve of its derivative failed at the start, or several steps in a "
        "row were rejected (CTMRG failed or the energy rose)."
    )
    line_search_failed = (
        "The line search found no lower value although the gradient norm is not small."
    )


def result_name(result: Any) -> str:
    """The name of a concrete (not traced) `RESULTS` item, e.g. `"successful"`.

    Refused (`TypeError` naming `result`): anything that is not a `RESULTS` item, a traced one
    (read names on the host, after the computation), and a batched one (one name per item)."""
    if getattr(result, "_enumeration", None) is not RESULTS:  # (an equinox EnumerationItem)
        raise TypeError(
            f"result_name: expected `result` to be an item of diffsci.utils.RESULTS, "
            f"got {type(result).__name__}"
        )
    if result.is_traced() or np.ndim(result._value) != 0:
        raise TypeError(
            "result_name: expected `result` to be one concrete item of "
            "diffsci.utils.RESULTS (not traced, not batched), got "
            f"{'a traced' if result.is_traced() else 'a batched'} one"
        )
    value = int(np.asarray(result._value))
    for name, item in RESULTS._name_to_item.items():
        if int(np.asarray(item._value)) == value:
            return name
    raise ValueError(f"result_name: {value} is not a value of diffsci.utils.RESULTS")


def raise_if_failed(
    token: Any,
    result: Any,
    who: str,
    messages: Mapping[str, str] | None = None,
    message_index: Any = None,
) -> Any:
    """`token`, with a runtime error (eager and under `jit`) where `result` is not successful.

    The message is the failed member's, or the one `messages` gives for its name, prefixed with
    `who` (the function the user called). `message_index` picks a message other than the
    result's own, as an index into the members followed by the values of `messages` whose keys
    are not member names (for a failure that has no member of its own, such as a zero tensor that
    CTMRG reports as `nonfinite`)."""
    messages = dict(messages or {})
    names = list(RESULTS._name_to_item)
    table = [f"{who}: {messages.get(n, RESULTS._index_to_message[i])}" for i, n in enumerate(names)]
    table += [f"{who}: {m}" for k, m in messages.items() if k not in RESULTS._name_to_item]
    index = result._value if message_index is None else message_index
    return eqx.branched_error_if(token, result != RESULTS.successful, jnp.asarray(index), table)


RESULTS.__module__ = "diffsci.utils"  # where users find it (and what its repr says)
