"""Entry point of ``python -m diffsci``.

Every subcommand lives in its own module ``diffsci/cli/_cmd_<name>.py`` that defines

- ``NAME``: the subcommand's name on the command line,
- ``HELP``: one line for ``--help``,
- ``add_arguments(parser)``: adds its options to an ``argparse.ArgumentParser``,
- ``run(args) -> int``: runs it and returns the exit status,

and ``DRAWS = False`` if it draws no figure (the others need matplotlib, the optional extra
``plot``: without it they stop at once and say how to install it).

The modules are discovered here, so adding a subcommand touches no other file. Heavy imports (jax,
the numerical subpackages) happen inside ``run``, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Sequence

import diffsci


def _command_modules():
    package = importlib.import_module("diffsci.cli")
    modules = pkgutil.iter_modules(package.__path__)
    names = sorted(info.name for info in modules if info.name.startswith("_cmd_"))
    return [importlib.import_module(f"diffsci.cli.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m diffsci",
        description=(
            "diffsci: differentiable scientific programming on JAX. "
            "Each subcommand runs one computation with progress and writes a figure."
        ),
    )
    parser.add_argument("--version", action="version", version=f"diffsci {diffsci.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run, _draws=getattr(module, "DRAWS", True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    if args._draws and importlib.util.find_spec("matplotlib") is None:
        # before the computation, not after it: a run should not end without its figure
        print(
            f"python -m diffsci {args.command}: this command draws its figures with matplotlib, "
            "which is not installed; install it with: python -m pip install 'diffsci[plot]' "
            "(or, in a clone of the repository, python -m pip install -e '.[plot]')",
            file=sys.stderr,
        )
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
