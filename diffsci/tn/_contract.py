"""Contraction of tensor networks with an optimized pairwise order and optional slicing."""

from __future__ import annotations

import abc
import importlib.util
import itertools
import math
from collections.abc import Hashable, Sequence

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


class OptEinsum(AbstractContractionOptimizer):
    """A path from opt_einsum (Smith and Gray, JOSS 3, 753 (2018)).

    **Arguments:**

    - `strategy`: any of opt_einsum's `optimize` names: `"auto-hq"` (default: exhaustive
      search for small networks, dynamic programming up to ~20 tensors, many randomized greedy
      trials beyond), `"greedy"`, `"optimal"`, `"dp"`, `"random-greedy-128"`, ...
    """

    strategy: str = "auto-hq"

    def __call__(self, inputs, output, size_dict):
        eq = ",".join(inputs) + "->" + output
        shapes = [tuple(size_dict[c] for c in term) for term in inputs]
        path, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=self.strategy)
        return [tuple(step) for step in path]


class Cotengra(AbstractContractionOptimizer):
    """A path from cotengra's hyper-optimizer (Gray and Kourtis, Quantum 5, 410 (2021)).

    Needs the optional extra `tn` (`pip install diffsci[tn]`, which installs cotengra).

    **Arguments:**

    - `max_repeats`: number of trial contraction trees.
    - `methods`: the tree builders to sample (default cotengra's choice).
    - `minimize`: `"flops"` (default), `"size"`, `"write"` or `"combo"`.
    - `seed`: seed of the search, so that the same network gets the same path.
    """

    max_repeats: int = 64
    methods: tuple[str, ...] | None = None
    minimize: str = "flops"
    seed: int = 0

    def __call__(self, inputs, output, size_dict):
        if importlib.util.find_spec("cotengra") is None:
            raise ImportError(
                "Cotengra: cotengra is not installed; install the optional extra with "
                "`pip install diffsci[tn]` (or `pip install cotengra`), or use OptEinsum()"
            )
        import cotengra

        kwargs = dict(max_repeats=self.max_repeats, minimize=self.minimize, seed=self.seed)
        if self.methods is not None:
            kwargs["methods"] = list(self.methods)
        optimizer = cotengra.HyperOptimizer(progbar=False, parallel=False, **kwargs)
        path = optimizer.search(inputs, output, size_dict).get_path()
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

    - `equation`: the normalized einsum equation, e.g. `"ab,bc->ac"`.
    - `shapes`: the operand shapes the path is for.
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


def _choose_slices(inputs, output, size_dict, optimizer, max_intermediate):
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
                f"contract: cannot reach max_intermediate={max_intermediate} by slicing summed "
                f"indices; the smallest reachable is {int(info.largest_intermediate)} elements "
                f"(the output or an input alone may be larger)"
            )
        _, c, sizes, path, info = best
        sliced.append(c)
    return tuple(sliced), path, info


def _parse(spec, tensors, output, who="contract"):
    """Turn einsum subscripts or named legs into (inputs, output) index strings."""
    if isinstance(spec, str):
        if "..." in spec:
            raise ValueError(f"{who}: ellipsis ('...') broadcasting is not supported, got {spec!r}")
        if output is not None:
            raise ValueError(
                f"{who}: `output` is only for named legs; with einsum subscripts write the output "
                f"after '->', got subscripts {spec!r} and output {output!r}"
            )
        eq = spec.replace(" ", "")
        if "->" in eq:
            lhs, out = eq.split("->")
        else:
            lhs = eq
            counts = {}
            for c in lhs.replace(",", ""):
                counts[c] = counts.get(c, 0) + 1
            out = "".join(sorted(c for c, n in counts.items() if n == 1))
        inputs = lhs.split(",") if lhs else []
        for term in inputs + [out]:
            bad = [c for c in term if not c.isalpha()]
            if bad:
                raise ValueError(f"{who}: subscripts must be letters, got {bad[0]!r} in {spec!r}")
        names = {c: c for c in lhs.replace(",", "") + out}
        legs = [tuple(term) for term in inputs]
    else:
        legs = [tuple(term) for term in spec]
        for term in legs:
            for name in term:
                if not isinstance(name, Hashable):
                    raise TypeError(f"{who}: leg names must be hashable, got {name!r}")
        if output is None:
            counts = {}
            for name in itertools.chain.from_iterable(legs):
                counts[name] = counts.get(name, 0) + 1
            output = [name for name in dict.fromkeys(itertools.chain(*legs)) if counts[name] == 1]
        output = tuple(output)
        all_names = list(dict.fromkeys(itertools.chain(*legs)))
        names = {name: opt_einsum.get_symbol(i) for i, name in enumerate(all_names)}
        unknown = [name for name in output if name not in names]
        if unknown:
            raise ValueError(
                f"{who}: output leg {unknown[0]!r} is not a leg of any tensor; the legs are "
                f"{all_names}"
            )
        inputs = ["".join(names[n] for n in term) for term in legs]
        out = "".join(names[n] for n in output)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: an output leg is repeated in {out!r}")
    if len(inputs) != len(tensors):
        raise ValueError(
            f"{who}: the network has {len(inputs)} tensors but {len(tensors)} operands were given"
        )
    reverse = {v: k for k, v in names.items()}
    size_dict: dict[str, int] = {}
    where: dict[str, int] = {}
    for i, (term, t) in enumerate(zip(inputs, tensors, strict=True)):
        shape = tuple(t.shape) if hasattr(t, "shape") else tuple(t)
        if len(term) != len(shape):
            raise ValueError(
                f"{who}: operand {i} has legs {legs[i]} ({len(term)} of them) but shape {shape}"
            )
        for c, d in zip(term, shape, strict=True):
            if c in size_dict and size_dict[c] != d:
                raise ValueError(
                    f"{who}: leg {reverse[c]!r} has dimension {size_dict[c]} in operand "
                    f"{where[c]} but {d} in operand {i}"
                )
            size_dict.setdefault(c, d)
            where.setdefault(c, i)
    missing = [c for c in out if c not in size_dict]
    if missing:
        raise ValueError(
            f"{who}: output leg {reverse[missing[0]]!r} is not a leg of any tensor "
            f"(network {spec!r})"
        )
    return inputs, out, size_dict


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
      name shared by two tensors is a contracted bond).
    - `*shapes`: the operands, or just their shapes.
    - `output`: with named legs, the output legs in order (default: the legs that appear once,
      in order of appearance).
    - `optimizer`: an `AbstractContractionOptimizer`, `OptEinsum()` (default) or `Cotengra()`.
    - `max_intermediate`: if given, slice summed indices (contract them in an outer loop) until no
      intermediate tensor of one slice has more than this many elements.

    **Returns:**

    A `ContractionPath` with `.flops`, `.largest_intermediate` and `.report()`.
    """
    optimizer = default_optimizer() if optimizer is None else optimizer
    if not isinstance(optimizer, AbstractContractionOptimizer):
        raise TypeError(
            "contraction_path: optimizer must be an AbstractContractionOptimizer such as "
            f"OptEinsum() or Cotengra(), got {optimizer!r}"
        )
    inputs, out, size_dict = _parse(spec, shapes, output, who="contraction_path")
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
                f"contraction_path: max_intermediate must be >= 1 elements, got {max_intermediate}"
            )
        sliced, path, info = _choose_slices(inputs, out, size_dict, optimizer, max_intermediate)
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
      `contraction_path`).
    - `*tensors`: the arrays, one per tensor of the network.
    - `output`: with named legs, the output legs in order.
    - `path`: a `ContractionPath` for these shapes (then `optimizer` and `max_intermediate` are
      ignored).
    - `optimizer`, `max_intermediate`: as in `contraction_path`.

    **Returns:**

    The contracted tensor, legs in the order of the output.
    """
    tensors = tuple(jnp.asarray(t) for t in tensors)
    inputs, out, size_dict = _parse(spec, tensors, output)
    equation = ",".join(inputs) + "->" + out
    if path is None:
        path = contraction_path(
            spec, *tensors, output=output, optimizer=optimizer, max_intermediate=max_intermediate
        )
    else:
        if not isinstance(path, ContractionPath):
            raise TypeError(f"contract: path must be a ContractionPath, got {type(path).__name__}")
        shapes = tuple(tuple(t.shape) for t in tensors)
        if path.equation != equation or path.shapes != shapes:
            raise ValueError(
                f"contract: the path was computed for {path.equation} with shapes {path.shapes}, "
                f"but the network is {equation} with shapes {shapes}"
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
