"""``python -m diffsci check-grads MODULE:FUNCTION``: run diffsci.testing.check_grads on a
user's function at random inputs of given shapes.

Example::

    python -m diffsci check-grads mypackage.rules:my_eigh_loss --shape 4,4 --matrix symmetric \\
        --order 2

``MODULE`` is an importable module (the current directory is on the path) or a path to a ``.py``
file. Each ``--shape`` adds one positional argument; ``--shape 3,3:complex128`` gives that argument
its own dtype, ``--shape scalar`` (or ``--shape ""``) a scalar. The exit status is 0 when every
check passes, 1 when one fails (the report says which leaf, index, AD value, finite-difference
value and error estimate), 2 when the function cannot be loaded or called.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

NAME = "check-grads"
HELP = "check the derivatives of FUNCTION (MODULE:FUNCTION) at random inputs of given shapes"
DRAWS = False  # a report on the terminal, no figure

_DTYPES = ("float32", "float64", "complex64", "complex128")
_MATRICES = ("general", "symmetric", "hermitian", "spd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="MODULE:FUNCTION",
        help="the function to check, e.g. mypkg.rules:loss or path/to/file.py:loss",
    )
    parser.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="SHAPE[:DTYPE]",
        help="shape of one positional argument, e.g. 3,3 or 4 or scalar; "
        "repeat for each argument; an optional :DTYPE overrides --dtype",
    )
    parser.add_argument(
        "--dtype",
        default="float64",
        choices=_DTYPES,
        help="dtype of the arguments (default float64)",
    )
    parser.add_argument(
        "--matrix",
        default="general",
        choices=_MATRICES,
        help="structure of square matrix arguments (default general); the checks then move "
        "them only along directions that keep it (check_grads' `structure`)",
    )
    parser.add_argument(
        "--order",
        type=int,
        default=1,
        choices=(1, 2),
        help="1: first derivatives; 2: also second derivatives",
    )
    parser.add_argument(
        "--modes",
        default="",
        help="modes to check, comma separated: fwd,rev, rev or fwd (default: both, or rev "
        "alone for a function without forward mode, such as a jax.custom_vjp)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the inputs and directions")
    parser.add_argument(
        "--num-directions", type=int, default=2, help="random directions per check (default 2)"
    )
    parser.add_argument(
        "--eps",
        type=float,
        default=None,
        help="largest relative finite-difference step (default eps**(1/5))",
    )
    parser.add_argument("--no-jit", action="store_true", help="skip the jax.jit check")
    parser.add_argument("--no-vmap", action="store_true", help="skip the jax.vmap checks")


class UsageError(SystemExit):
    """A problem with the command line or the target: the message goes to stderr, exit status 2."""

    def __init__(self, message: str):
        print(message, file=sys.stderr)
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _load(target: str):
    module_name, sep, function_name = target.rpartition(":")
    if not sep or not module_name or not function_name:
        raise UsageError(f"check-grads: expected MODULE:FUNCTION, got {target!r}")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise UsageError(f"check-grads: no such file {module_name!r}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"check-grads: cannot load {module_name!r} as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise UsageError(f"check-grads: cannot import {module_name!r}: {err}") from err
    function = module
    for name in function_name.split("."):
        try:
            function = getattr(function, name)
        except AttributeError as err:
            raise UsageError(
                f"check-grads: {module_name!r} has no attribute {function_name!r}"
            ) from err
    if not callable(function):
        raise UsageError(f"check-grads: {target!r} is not callable")
    return function


def _parse_shape(text: str, default_dtype: str) -> tuple[tuple[int, ...], str]:
    shape_text, _, dtype = text.partition(":")
    dtype = dtype or default_dtype
    if dtype not in _DTYPES:
        raise UsageError(
            f"check-grads: unknown dtype {dtype!r} in --shape {text!r}; "
            f"expected one of {', '.join(_DTYPES)}"
        )
    shape_text = shape_text.strip().strip("()")
    if shape_text in ("", "scalar"):
        return (), dtype
    try:
        shape = tuple(int(n) for n in shape_text.split(",") if n.strip())
    except ValueError as err:
        raise UsageError(f"check-grads: cannot read the shape {text!r}") from err
    if any(n < 0 for n in shape):
        raise UsageError(f"check-grads: negative size in --shape {text!r}")
    return shape, dtype


def make_inputs(shapes, matrix: str, seed: int):
    """Random inputs: standard normal entries (complex for a complex dtype), square matrices
    made symmetric, Hermitian or positive definite as asked."""
    import numpy as np

    rng = np.random.default_rng(seed)
    args = []
    for shape, dtype in shapes:
        is_complex = dtype.startswith("complex")
        a = rng.standard_normal(shape)
        if is_complex:
            a = a + 1j * rng.standard_normal(shape)
        if len(shape) == 2 and shape[0] == shape[1] and matrix != "general":
            if matrix == "symmetric":
                a = (a + a.T) / 2
            elif matrix == "hermitian":
                a = (a + a.conj().T) / 2
            else:  # spd
                a = a @ a.conj().T / shape[0] + np.eye(shape[0])
        args.append(np.asarray(a).astype(dtype))
    return args


def run(args: argparse.Namespace) -> int:
    from diffsci.cli._common import enable_x64

    shapes = [_parse_shape(text, args.dtype) for text in args.shape]
    if any(dtype in ("float64", "complex128") for _, dtype in shapes) or not shapes:
        enable_x64()
    import jax.numpy as jnp

    from diffsci.testing import check_grads

    function = _load(args.target)
    if not shapes:
        raise UsageError("check-grads: give the shape of each argument with --shape")
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip()) or None
    inputs = [jnp.asarray(a) for a in make_inputs(shapes, args.matrix, args.seed)]
    # An SPD matrix stays SPD along small Hermitian directions.
    kind = {"general": None, "spd": "hermitian"}.get(args.matrix, args.matrix)
    structure = tuple(kind if a.ndim == 2 and a.shape[0] == a.shape[1] else None for a in inputs)
    described = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in inputs)
    print(
        f"check-grads {args.target}: order {args.order}, "
        f"modes {','.join(modes) if modes else 'auto'}, arguments {described}, seed {args.seed}"
    )
    start = time.perf_counter()
    try:
        report = check_grads(
            function,
            *inputs,
            order=args.order,
            modes=modes,
            structure=structure if any(structure) else None,
            key=args.seed,
            num_directions=args.num_directions,
            eps=args.eps,
            jit=not args.no_jit,
            vmap=not args.no_vmap,
        )
    except AssertionError as err:
        print(str(err))
        print(f"FAIL ({time.perf_counter() - start:.1f} s)")
        return 1
    except (TypeError, ValueError) as err:
        print(f"check-grads: could not check {args.target}: {err}", file=sys.stderr)
        return 2
    for note in report.skipped:
        print(f"skipped: {note}")
    print(f"PASS: every check passed ({time.perf_counter() - start:.1f} s)")
    return 0
