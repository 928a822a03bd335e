"""Helpers shared by the subcommands: float64, the output folder. (Figures: `diffsci.plot`.)"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_output_argument(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--out",
        default=default,
        help=f"folder for figures and checkpoints (default: {default})",
    )


def enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def output_dir(path: str) -> Path:
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def fresh_log(path: Path) -> Path:
    """The JSON-lines log of a run that does not resume (its earlier log is removed first)."""
    path.unlink(missing_ok=True)
    return path
