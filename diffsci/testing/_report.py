"""Failure records and the readable report that `AssertionError` carries."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Failure:
    """One failed comparison.

    `check` names the check ("dot product (jvp vs vjp)", "finite differences (jvp)", ...);
    `where` names the pytree leaf and index; `values` is an ordered list of (label, number) rows,
    e.g. ("AD", 1.0), ("FD", -1.0), ("error estimate", 1e-10); `note` is free text.
    """

    check: str
    where: str
    values: list[tuple[str, float | str]]
    note: str = ""

    def format(self) -> str:
        lines = [f"[{self.check}] {self.where}"]
        width = max((len(label) for label, _ in self.values), default=0)
        for label, value in self.values:
            if isinstance(value, float):
                text = f"{value: .10e}"
            else:
                text = f" {value}"
            lines.append(f"    {label.ljust(width)} :{text}")
        if self.note:
            lines.extend("    " + line for line in self.note.splitlines())
        return "\n".join(lines)


def format_report(
    title: str, failures: list[Failure], context: str = "", max_shown: int = 8
) -> str:
    head = f"{title}: {len(failures)} check{'s' if len(failures) != 1 else ''} failed"
    parts = [head]
    if context:
        parts.append(context)
    parts.extend(f.format() for f in failures[:max_shown])
    if len(failures) > max_shown:
        rest = sorted({f.check for f in failures[max_shown:]})
        parts.append(f"... and {len(failures) - max_shown} more failures of: " + "; ".join(rest))
    if any("finite differences" in f.check for f in failures):
        parts.append(_FD_HINT)
    return "\n".join(parts)


_FD_HINT = (
    "(If the AD value is right and the finite differences are not: a function that varies on a "
    "scale below the step, e.g. at a near-degeneracy, needs a smaller `eps`.)"
)


def raise_if(title: str, failures: list[Failure], context: str = "") -> None:
    """Raise `AssertionError` with the report when there is any failure."""
    if failures:
        raise AssertionError(format_report(title, failures, context))


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What a gradient check that passed covered.

    **Fields:**

    - `check`: the function that ran (`"check_grads"`, ...).
    - `modes`: the derivative modes checked, `("fwd", "rev")` or one of them.
    - `skipped`: what was not checked, each with its reason (e.g. forward mode for a
      `jax.custom_vjp` function, which has none).
    """

    check: str
    modes: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.check}: passed ({' and '.join(self.modes)} mode)"]
        lines.extend(f"  skipped: {note}" for note in self.skipped)
        return "\n".join(lines)
