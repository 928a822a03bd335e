"""Helpers shared by the subcommands: float64, output folder, figures."""

from __future__ import annotations

import argparse
import os
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


def pyplot():
    """Matplotlib's pyplot with a non-interactive backend (no display needed)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
