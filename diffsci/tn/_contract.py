"""Contraction of tensor networks with an optimized pairwise order and optional slicing."""

from __future__ import annotations

import abc
import collections
import importlib.util
import itertools
import math
from collections.abc import Hashable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import opt_einsum
from jaxtyping import Array, ArrayLike

__all__ = [
    "AbstractContractionOptimizer",
    "ContractionPath",
    "Cotengra",
    "OptEinsum",
    "contract",
    "contraction_path",
]


# --------------------------------------------------------------------------------------------
# Optimizers: strategies that return a pairwise contraction order.
# --------------------------------------------------------------------------------------------


class AbstractContractionOptimizer(eqx.Module):
    """Chooses the order of pairwise contractions of a network.

    Subclasses implement `__call__(inputs, output, size_dict) -> path`, with `inputs` a list of
    index strings, `output` the output index string, `size_dict` the dimension of each index, and
    `path` a list of position tuples in opt_einsum's "linear" format (each tuple names operands of
    the current list, which are removed and their contraction appended).
    """

    @abc.abstractmethod
    def __call__(
        self, inputs: list[str], output: str, size_dict: dict[str, int]
    ) -> list[tuple[int, ...]]:
        raise NotImplementedError


# opt_einsum's named path optimizers (`opt_einsum.paths.get_path_fn`), and "random-greedy-<n>"
# (n trials of opt_einsum's `RandomGreedy`).
_STRATEGIES = tuple(sorted(opt_einsum.paths._PATH_OPTIONS))


def _known_strategy(name: str) -> bool:
    if name in _STRATEGIES:
        return True
    prefix = "random-greedy-"
    return (
        name.startswith(prefix) and name[len(prefix) :].isdigit() and int(name[len(prefix) :]) > 0
    )


class OptEinsum(AbstractContractionOptimizer):
    """A path from opt_einsum (Smith and Gray, JOSS 3, 753 (2018)).

    **Arguments:**

    - `strategy`: any of opt_einsum's `optimize` names: `"auto-hq"` (default: exhaustive
      search for small networks, dynamic programming up to ~20 tensors, many randomized greedy
      trials beyond), `"greedy"`, `"optimal"`, `"dp"`, `"random-greedy-128"`, ...; an unknown
      name is refused when the optimizer is built (`ValueError` listing the names).
    """

    strategy: str = "auto-hq"

    def __check_init__(self):
        if not isinstance(self.strategy, str) or not _known_strategy(self.strategy):
            raise ValueError(
                "OptEinsum: expected `strategy` to be one of opt_einsum's path optimizers, "
                f"{', '.join(repr(s) for s in _STRATEGIES)} (or 'random-greedy-<n>' with an "
                f"integer n >= 1), got {self.strategy!r}"
            )

    def __call__(self, inputs, output, size_dict):
        eq = ",".join(inputs) + "->" + output
        shapes = [tuple(size_dict[c] for c in term) for term in inputs]
        # opt_einsum's `OptimizeKind` lists only some of the names it accepts
        strategy: Any = self.strategy
        if strategy not in _STRATEGIES:  # "random-greedy-<n>": opt_einsum names only n = 128
            strategy = opt_einsum.RandomGreedy(max_repeats=int(strategy.rsplit("-", 1)[1]))
        path, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=strategy)
        return [tuple(step) for step in path]


_MINIMIZE = ("flops", "size", "write", "combo", "limit")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class Cotengra(AbstractContractionOptimizer):
    """A path from cotengra's hyper-optimizer (Gray and Kourtis, Quantum 5, 410 (2021)).

    Needs the optional extra `tn` (`pip install diffsci[tn]`, which installs cotengra).

    **Arguments:**

    - `max_repeats`: number of trial contraction trees.
    - `methods`: the tree builders to sample (default cotengra's choice).
    - `minimize`: `"flops"` (default), `"size"`, `"write"` or `"combo"`.
    - `seed`: seed of the search, so that the same network gets the same path.

    The fields are checked when it is built (`max_repeats` an integer >= 1, `minimize` one of
    cotengra's objectives, `methods` a tuple of names).
    """

    max_repeats: int = 64
    methods: tuple[str, ...] | None = None
    minimize: str = "flops"
    seed: int = 0

    def __check_init__(self):
        who = "Cotengra"
        for name in ("max_repeats", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise TypeError(f"{who}: expected `{name}` to be an integer, got {value!r}")
        if self.max_repeats < 1:
            raise ValueError(
                f"{who}: expected `max_repeats` to be an integer >= 1, got {self.max_repeats!r}"
            )
        if self.methods is not None and (
            isinstance(self.methods, str)
            or not all(isinstance(m, str) for m in self.methods)
            or not self.methods
        ):
            raise TypeError(
                f"{who}: expected `methods` to be None or a non-empty tuple of method names, got "
                f"{self.methods!r}"
            )
        # cotengra's objectives: a name, optionally with a factor ("combo-256", "limit-64").
        base, _, factor = (
            self.minimize.partition("-") if isinstance(self.minimize, str) else (None, "", "")
        )
        if base not in _MINIMIZE or (factor and not _is_number(factor)):
            raise ValueError(
                f"{who}: expected `minimize` to be one of {', '.join(map(repr, _MINIMIZE))} "
                f"(optionally with a factor, as 'combo-256'), got {self.minimize!r}"
            )

    def __call__(self, inputs, output, size_dict):
        if importlib.util.find_spec("cotengra") is None:
            raise ImportError(
                "Cotengra: cotengra is not installed; install the optional extra with "
                "`pip install diffsci[tn]` (or `pip install cotengra`), or use OptEinsum()"
            )
        import cotengra

        kwargs: dict[str, Any] = dict(
            max_repeats=self.max_repeats, minimize=self.minimize, seed=self.seed
        )
        if self.methods is not None:
            kwargs["methods"] = list(self.methods)
        # cotengra has no annotations: pyright takes `parallel` for a `str` (from its default
        # "auto"; it also takes False) and the tree that `search` returns for a `float`
        optimizer = cotengra.HyperOptimizer(
            progbar=False,
            parallel=False,  # pyright: ignore[reportArgumentType]
            **kwargs,
        )
        tree = optimizer.search(inputs, output, size_dict)
        path = tree.get_path()  # pyright: ignore[reportAttributeAccessIssue]
        return [tuple(int(i) for i in step) for step in path]


def default_optimizer() -> AbstractContractionOptimizer:
    """`OptEinsum("auto-hq")`: deterministic and dependency-free. Pass `Cotengra()` explicitly
    for large networks."""
    return OptEinsum()


# --------------------------------------------------------------------------------------------
# The path: computed once from shapes, reused under jit.
# --------------------------------------------------------------------------------------------


class ContractionPath(eqx.Module):
    """A contraction order for a network of given shapes, with its cost.

    Computed by `diffsci.tn.contraction_path` (or inside `contract`); holds only static Python
    data, so it can be closed over or passed as a static argument to `jax.jit` and reused for
    every call with the same shapes.

    **Fields:**

    - `equation`: the normalized einsum equation, e.g. `"ab,bc->ac"` (a `...` is written out
      as one fresh index per broadcast dimension).
    - `shapes`: the operand shapes the path is for (a `...` dimension of size 1 that broadcasts
      against a larger one is left out of its operand's shape and index string).
    - `path`: pairwise contraction order, opt_einsum's linear format.
    - `sliced`: the indices summed in an outer loop (empty if not sliced).
    - `flops`: the FLOP count of the whole contraction (all slices), as opt_einsum counts it.
    - `largest_intermediate`: the number of elements of the largest intermediate tensor of one
      slice.
    - `steps`: per pairwise contraction, the operand positions and the einsum equation.
    """

    equation: str
    shapes: tuple[tuple[int, ...], ...]
    path: tuple[tuple[int, ...], ...]
    sliced: tuple[str, ...]
    flops: int
    largest_intermediate: int
    steps: tuple[tuple[tuple[int, ...], str], ...]

    @property
    def num_slices(self) -> int:
        sizes = _size_dict(self.equation, self.shapes)
        return math.prod(sizes[c] for c in self.sliced)

    def report(self) -> str:
        """A one-paragraph summary: FLOPs, largest intermediate, slicing."""
        text = (
            f"{self.equation}: {len(self.path)} pairwise contractions, "
            f"{self.flops:.3e} FLOPs, largest intermediate {self.largest_intermediate} elements"
        )
        if self.sliced:
            text += f", {self.num_slices} slices over {', '.join(self.sliced)}"
        return text


def _size_dict(equation, shapes):
    inputs = equation.split("->")[0].split(",")
    sizes = {}
    for term, shape in zip(inputs, shapes, strict=True):
        sizes.update(zip(term, shape, strict=True))
    return sizes


def _path_info(inputs, output, size_dict, path):
    eq = ",".join(inputs) + "->" + output
    shapes = [tuple(size_dict[c] for c in term) for term in inputs]
    _, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=list(path))
    return info


def _largest(info, inputs, size_dict) -> int:
    # opt_einsum's figure covers the intermediates; the inputs themselves count too.
    biggest_input = max(math.prod(size_dict[c] for c in term) for term in inputs)
    return max(int(info.largest_intermediate), biggest_input if len(inputs) == 1 else 0)


def _choose_slices(inputs, output, size_dict, optimizer, max_intermediate, who):
    """Greedily slice summed indices until the largest intermediate fits."""
    sliced: list[str] = []
    sizes = dict(size_dict)
    path = optimizer(inputs, output, sizes)
    info = _path_info(inputs, output, sizes, path)
    candidates = sorted({c for term in inputs for c in term} - set(output))
    while int(info.largest_intermediate) > max_intermediate:
        best = None
        for c in candidates:
            if c in sliced or sizes[c] == 1:
                continue
            trial = dict(sizes, **{c: 1})
            trial_path = optimizer(inputs, output, trial)
            trial_info = _path_info(inputs, output, trial, trial_path)
            key = (int(trial_info.largest_intermediate), float(trial_info.opt_cost) * sizes[c])
            if best is None or key < best[0]:
                best = (key, c, trial, trial_path, trial_info)
        if best is None:
            raise ValueError(
                f"{who}: cannot reach max_intermediate={max_intermediate} by slicing summed "
                f"indices; the smallest reachable is {int(info.largest_intermediate)} elements "
                f"(the output or an input alone may be larger)"
            )
        _, c, sizes, path, info = best
        sliced.append(c)
    return tuple(sliced), path, info


def _split_term(term, arg, where, who, letters_only):
    """One operand's (or the output's) legs as a list, with `Ellipsis` standing for `...`."""
    if isinstance(term, str):
        pieces = term.split("...")
        if len(pieces) > 2:
            raise ValueError(f"{who}: `{arg}` has more than one '...' in {where} {term!r}")
        names: list = []
        for k, piece in enumerate(pieces):
            if k:
                names.append(Ellipsis)
            for c in piece:
                if c == ".":
                    raise ValueError(
                        f"{who}: `{arg}` has a '.' that is not part of an ellipsis ('...') in "
                        f"{where} {term!r}"
                    )
                if letters_only and not c.isalpha():
                    raise ValueError(
                        f"{who}: subscripts in `{arg}` must be letters or '...', got {c!r} in "
                        f"{where} {term!r}"
                    )
                names.append(c)
        return names
    names = [Ellipsis if isinstance(n, str) and n == "..." else n for n in term]
    for name in names:
        if not isinstance(name, Hashable):
            raise TypeError(f"{who}: leg names must be hashable, got {name!r}")
    if names.count(Ellipsis) > 1:
        raise ValueError(f"{who}: `{arg}` has more than one '...' in {where} {tuple(term)!r}")
    return names


def _shape_of(t, i, who):
    if hasattr(t, "shape"):
        return tuple(int(d) for d in t.shape)
    try:
        shape = tuple(t)
    except TypeError:
        raise TypeError(
            f"{who}: operand {i} must be an array or a shape (a sequence of ints), got {t!r}"
        ) from None
    if not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise TypeError(
            f"{who}: operand {i} must be an array or a shape (a sequence of ints >= 0), got {t!r}"
        )
    return tuple(int(d) for d in shape)


def _parse(spec, tensors, output, who="contract"):
    """Turn einsum subscripts or named legs into index strings, one symbol per leg.

    Returns `(inputs, out, size_dict, squeeze)`. A `...` becomes fresh symbols, one per
    broadcast dimension, right-aligned across the operands as numpy broadcasts; an operand's
    `...` dimension of size 1 against a larger one is dropped from its term (and listed in
    `squeeze`, the axes to remove from that operand), so that the symbol keeps the larger size.
    """
    if not isinstance(spec, str) and not (
        isinstance(spec, Sequence) and all(isinstance(t, Sequence) for t in spec)
    ):
        raise TypeError(
            f"{who}: `spec` must be einsum subscripts (a str) or a sequence of leg-name "
            f"sequences, one per tensor, got {spec!r}"
        )
    if isinstance(spec, str):
        if output is not None:
            raise ValueError(
                f"{who}: `output` is only for named legs; with einsum subscripts write the output "
                f"after '->', got subscripts {spec!r} and output {output!r}"
            )
        eq = spec.replace(" ", "")
        if eq.count("->") > 1:
            raise ValueError(f"{who}: `spec` has more than one '->', got {spec!r}")
        lhs, arrow, rhs = eq.partition("->")
        # "" (as in "->" for one 0-d operand) is one operand without legs, as in np.einsum.
        terms = [
            _split_term(term, "spec", f"operand {i}'s subscripts", who, letters_only=True)
            for i, term in enumerate(lhs.split(","))
        ]
        out_names = (
            _split_term(rhs, "spec", "the output", who, letters_only=True) if arrow else None
        )
        output_arg = "spec"
    else:
        terms = [
            _split_term(term, "spec", f"the legs of operand {i}", who, letters_only=False)
            for i, term in enumerate(spec)
        ]
        out_names = (
            None
            if output is None
            else _split_term(output, "output", "the output legs", who, letters_only=False)
        )
        output_arg = "output"
    if not terms:
        raise ValueError(f"{who}: `spec` names no tensors, got {spec!r}")
    if len(terms) != len(tensors):
        raise ValueError(
            f"{who}: the network has {len(terms)} tensors but {len(tensors)} operands were given"
        )
    has_ellipsis = any(Ellipsis in term for term in terms)
    legs = [tuple(n for n in term if n is not Ellipsis) for term in terms]
    if out_names is None:
        counts: dict = {}
        for name in itertools.chain(*legs):
            counts[name] = counts.get(name, 0) + 1
        once = [name for name in dict.fromkeys(itertools.chain(*legs)) if counts[name] == 1]
        if isinstance(spec, str):
            once = sorted(once)  # np.einsum's implicit output: alphabetical
        out_names = ([Ellipsis] if has_ellipsis else []) + once
    elif Ellipsis in out_names and not has_ellipsis:
        raise ValueError(
            f"{who}: `{output_arg}` has '...' in the output but no operand has '...' "
            f"(network {spec!r})"
        )
    all_names = list(dict.fromkeys(itertools.chain(*legs)))
    unknown = [name for name in out_names if name is not Ellipsis and name not in all_names]
    if unknown:
        raise ValueError(
            f"{who}: output leg {unknown[0]!r} is not a leg of any tensor; the legs are {all_names}"
        )
    repeated = [name for name, n in collections.Counter(out_names).items() if n > 1]
    if repeated:
        raise ValueError(f"{who}: output leg {repeated[0]!r} is repeated in `{output_arg}`")
    if isinstance(spec, str):
        names = {c: c for c in all_names}
    else:
        names = {name: opt_einsum.get_symbol(i) for i, name in enumerate(all_names)}

    # Shapes, and the broadcast shape of the '...' dimensions.
    shapes = [_shape_of(t, i, who) for i, t in enumerate(tensors)]
    batch_shapes = []
    for i, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        n_batch = len(shape) - len(legs[i])
        if Ellipsis not in term and n_batch != 0:
            raise ValueError(
                f"{who}: operand {i} has legs {legs[i]} ({len(legs[i])} of them) but shape {shape}"
            )
        if n_batch < 0:
            raise ValueError(
                f"{who}: operand {i} has legs {legs[i]} and '...' (at least {len(legs[i])} "
                f"dimensions) but shape {shape}"
            )
        start = term.index(Ellipsis) if Ellipsis in term else 0
        batch_shapes.append(shape[start : start + n_batch])
    n_broadcast = max(len(b) for b in batch_shapes)
    broadcast = [1] * n_broadcast
    owner = [0] * n_broadcast  # the operand that set each broadcast dimension
    for i, b in enumerate(batch_shapes):
        for k, d in enumerate(b, start=n_broadcast - len(b)):
            if d == 1:
                continue
            if broadcast[k] not in (1, d):
                j = owner[k]
                raise ValueError(
                    f"{who}: the '...' dimensions of operand {j}, {batch_shapes[j]}, and of "
                    f"operand {i}, {b}, cannot be broadcast together (network {spec!r})"
                )
            broadcast[k], owner[k] = d, i
    used = set(names.values())
    fresh = (s for s in map(opt_einsum.get_symbol, itertools.count()) if s not in used)
    batch = list(itertools.islice(fresh, n_broadcast))

    inputs, squeeze = [], []
    size_dict: dict[str, int] = {}
    where: dict[str, int] = {}
    reverse = {v: k for k, v in names.items()}
    for i, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        symbols: list[str] = []
        for name in term:
            if name is Ellipsis:
                symbols.extend(batch[n_broadcast - len(batch_shapes[i]) :])
            else:
                symbols.append(names[name])
        kept, drop = [], []
        for axis, (c, d) in enumerate(zip(symbols, shape, strict=True)):
            if c in batch:
                if d == 1 and broadcast[batch.index(c)] != 1:
                    drop.append(axis)
                    continue
            elif c in size_dict and size_dict[c] != d:
                raise ValueError(
                    f"{who}: leg {reverse[c]!r} has dimension {size_dict[c]} in operand "
                    f"{where[c]} but {d} in operand {i}"
                )
            kept.append(c)
            size_dict.setdefault(c, d)
            where.setdefault(c, i)
        inputs.append("".join(kept))
        squeeze.append(tuple(drop))
    out = "".join("".join(batch) if name is Ellipsis else names[name] for name in out_names)
    return inputs, out, size_dict, tuple(squeeze)


def contraction_path(
    spec: str | Sequence[Sequence[Hashable]],
    *shapes: Sequence[int] | ArrayLike,
    output: Sequence[Hashable] | None = None,
    optimizer: AbstractContractionOptimizer | None = None,
    max_intermediate: int | None = None,
) -> ContractionPath:
    """Compute a contraction order for a network, once, for reuse by `contract`.

    **Arguments:**

    - `spec`: the network, as einsum subscripts (`"ij,jk->ik"`) or as one sequence of leg names
      per tensor (`[("left", "bond"), ("bond", "right")]`; names are any hashable values, and a
      name shared by two tensors is a contracted bond). Subscripts follow `np.einsum`: without
      `->` the output is the indices that appear once, in alphabetical order; an empty term is
      a scalar (0-d) operand (`"->"`, `",ij->ij"`); `...` stands for any number of leading,
      middle or trailing dimensions, broadcast across the operands as numpy broadcasts
      (right-aligned, size 1 against any size), as in `"...ij,...jk->...ik"`. The `...`
      dimensions come first in an implicit output, and are summed if an explicit output has no
      `...` (as `jnp.einsum` does; `np.einsum` refuses this); a `...` in the output needs one
      in some operand (`np.einsum` reads `"ij->...ij"` as no broadcast dimensions, `contract`
      refuses it as a likely typo). With named legs, `...` (the Python `Ellipsis`, or the
      string `"..."`) plays the same part.
    - `*shapes`: the operands, or just their shapes.
    - `output`: with named legs, the output legs in order, `...` allowed (default: the `...`
      dimensions if any operand has them, then the legs that appear once, in order of
      appearance).
    - `optimizer`: an `AbstractContractionOptimizer`, `OptEinsum()` (default) or `Cotengra()`.
    - `max_intermediate`: if given, slice summed indices (contract them in an outer loop) until no
      intermediate tensor of one slice has more than this many elements (an integer >= 1).

    **Returns:**

    A `ContractionPath` with `.flops`, `.largest_intermediate` and `.report()`.
    """
    return _contraction_path(spec, shapes, output, optimizer, max_intermediate, "contraction_path")


def _contraction_path(spec, shapes, output, optimizer, max_intermediate, who):
    optimizer = default_optimizer() if optimizer is None else optimizer
    if not isinstance(optimizer, AbstractContractionOptimizer):
        raise TypeError(
            f"{who}: `optimizer` must be an AbstractContractionOptimizer such as "
            f"OptEinsum() or Cotengra(), got {optimizer!r}"
        )
    if max_intermediate is not None and (
        not isinstance(max_intermediate, int | np.integer) or isinstance(max_intermediate, bool)
    ):
        raise TypeError(
            f"{who}: `max_intermediate` must be an integer number of elements or None, got "
            f"{max_intermediate!r}"
        )
    inputs, out, size_dict, _ = _parse(spec, shapes, output, who=who)
    shapes = tuple(tuple(size_dict[c] for c in term) for term in inputs)
    equation = ",".join(inputs) + "->" + out
    if len(inputs) == 1:
        path, sliced = [(0,)], ()
        info = _path_info(inputs, out, size_dict, path)
    elif max_intermediate is None:
        sliced = ()
        path = optimizer(inputs, out, size_dict)
        info = _path_info(inputs, out, size_dict, path)
    else:
        if max_intermediate < 1:
            raise ValueError(
                f"{who}: `max_intermediate` must be >= 1 elements, got {max_intermediate}"
            )
        sliced, path, info = _choose_slices(
            inputs, out, size_dict, optimizer, max_intermediate, who
        )
    num_slices = math.prod(size_dict[c] for c in sliced)
    steps = tuple((tuple(int(i) for i in entry[0]), entry[2]) for entry in info.contraction_list)
    return ContractionPath(
        equation=equation,
        shapes=shapes,
        path=tuple(tuple(int(i) for i in step) for step in path),
        sliced=sliced,
        flops=int(info.opt_cost) * num_slices,
        largest_intermediate=_largest(info, inputs, {**size_dict, **{c: 1 for c in sliced}}),
        steps=steps,
    )


def _as_operand(t, i):
    if isinstance(t, str) or t is None:
        raise TypeError(f"contract: operand {i} must be an array, got {t!r}")
    try:
        return jnp.asarray(t)
    except (TypeError, ValueError):
        raise TypeError(f"contract: operand {i} must be an array, got {type(t).__name__}") from None


def _run_steps(steps, operands):
    operands = list(operands)
    for positions, eq in steps:
        picked = [operands[i] for i in positions]
        for i in sorted(positions, reverse=True):
            del operands[i]
        operands.append(jnp.einsum(eq, *picked))
    (result,) = operands
    return result


def contract(
    spec: str | Sequence[Sequence[Hashable]],
    *tensors: ArrayLike,
    output: Sequence[Hashable] | None = None,
    path: ContractionPath | None = None,
    optimizer: AbstractContractionOptimizer | None = None,
    max_intermediate: int | None = None,
) -> Array:
    """Contract a tensor network in an optimized pairwise order, optionally sliced.

    `contract("ij,jk,kl->il", a, b, c)` equals `jnp.einsum` with the same subscripts; the order of
    the pairwise contractions comes from `optimizer` (opt_einsum by default, cotengra's
    hyper-optimizer with `Cotengra()`), or from a `path` computed once by `contraction_path` and
    reused (the search then costs nothing under `jit`). With `max_intermediate`, summed indices
    are sliced: the contraction runs once per value of the sliced indices in a `lax.fori_loop`,
    accumulating, so no intermediate exceeds the bound (the FLOP count grows with the
    redundancy). Differentiable in all tensors.

    **Arguments:**

    - `spec`: einsum subscripts, or a sequence of leg names per tensor (see
      `contraction_path`). As in `np.einsum`, `...` broadcasts batch dimensions
      (`"...ij,...jk->...ik"`, `"...ii->...i"`, `"i...->..."`; size-1 dimensions broadcast),
      and an empty term is a scalar operand (`"->"` returns a 0-d array unchanged,
      `",ij->ij"` scales a matrix).
    - `*tensors`: the arrays (0-d arrays and Python scalars included), one per tensor of the
      network; zero-size dimensions are allowed.
    - `output`: with named legs, the output legs in order.
    - `path`: a `ContractionPath` for these shapes (then `optimizer` and `max_intermediate` are
      ignored).
    - `optimizer`, `max_intermediate`: as in `contraction_path`.

    **Returns:**

    The contracted tensor, legs in the order of the output.
    """
    tensors = tuple(_as_operand(t, i) for i, t in enumerate(tensors))
    inputs, out, size_dict, squeeze = _parse(spec, tensors, output)
    equation = ",".join(inputs) + "->" + out
    if path is None:
        path = _contraction_path(spec, tensors, output, optimizer, max_intermediate, "contract")
    else:
        if not isinstance(path, ContractionPath):
            raise TypeError(f"contract: path must be a ContractionPath, got {type(path).__name__}")
        shapes = tuple(tuple(size_dict[c] for c in term) for term in inputs)
        if path.equation != equation or path.shapes != shapes:
            raise ValueError(
                f"contract: the path was computed for {path.equation} with shapes {path.shapes}, "
                f"but the network is {equation} with shapes {shapes}"
            )
    # '...' dimensions of size 1 that broadcast against larger ones leave their operand.
    tensors = tuple(
        jnp.squeeze(t, axis=axes) if axes else t for t, axes in zip(tensors, squeeze, strict=True)
    )
    if not path.sliced:
        return _run_steps(path.steps, tensors)
    return _sliced(path, inputs, size_dict, tensors)


def _sliced(path, inputs, size_dict, tensors):
    sliced = path.sliced
    dims = [size_dict[c] for c in sliced]
    strides = np.cumprod([1] + dims[::-1][:-1])[::-1].tolist()

    def one_slice(n):
        values = {c: (n // s) % d for c, s, d in zip(sliced, strides, dims, strict=True)}
        ops = []
        for term, t in zip(inputs, tensors, strict=True):
            for axis, c in enumerate(term):
                if c in values:
                    t = jax.lax.dynamic_slice_in_dim(t, values[c], 1, axis=axis)
            ops.append(t)
        return _run_steps(path.steps, ops)

    first = jax.eval_shape(one_slice, 0)
    total = math.prod(dims)
    return jax.lax.fori_loop(
        0, total, lambda n, acc: acc + one_slice(n), jnp.zeros(first.shape, first.dtype)
    )
