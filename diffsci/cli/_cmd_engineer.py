"""``python -m diffsci engineer``: Hamiltonian engineering by gradient descent.

Two systems, each in its own module with ``add_arguments(parser)`` and ``run(args)``:

- ``lattice``: a small tight-binding lattice through dense, degeneracy-safe ``diffsci.linalg``
  (``diffsci/cli/_engineer_lattice.py``);
- ``chain``: a spin chain of 2^L states through the matrix-free ``diffsci.linalg.eigsh``
  (``diffsci/cli/_engineer_chain.py``).
"""

from __future__ import annotations

import importlib

NAME = "engineer"
HELP = "optimize the parameters of a Hamiltonian so that a gauge-invariant target is met"

_SYSTEMS = {
    "lattice": "diffsci.cli._engineer_lattice",
    "chain": "diffsci.cli._engineer_chain",
}


def _available():
    found = {}
    for name, module in _SYSTEMS.items():
        try:
            found[name] = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
    return found


def add_arguments(parser):
    systems = parser.add_subparsers(dest="system", metavar="SYSTEM")
    for name, module in _available().items():
        sub = systems.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_system_run=module.run)


def run(args):
    if getattr(args, "_system_run", None) is None:
        raise SystemExit("engineer: choose a system, one of: " + ", ".join(sorted(_available())))
    return args._system_run(args)
