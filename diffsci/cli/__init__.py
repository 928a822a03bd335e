"""The ``python -m diffsci`` command line."""

from ._main import main as main
