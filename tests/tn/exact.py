"""Exact partition functions of small periodic lattices by enumerating every configuration."""

from __future__ import annotations

import itertools

import numpy as np


def torus_log_z(bond: np.ndarray, site: np.ndarray, lx: int, ly: int) -> float:
    """ln Z / N of an lx-by-ly torus with weight prod_<ij> bond[s_i, s_j] prod_i site[s_i].

    Every site has a bond to its right and its upper neighbour (modulo the size), so a torus of
    width 2 has two bonds between horizontal neighbours, as a periodic tensor network has.
    """
    q = bond.shape[0]
    n = lx * ly
    configs = np.array(list(itertools.product(range(q), repeat=n))).reshape(-1, ly, lx)
    log_bond, log_site = np.log(bond), np.log(site)
    right = np.roll(configs, -1, axis=2)
    up = np.roll(configs, -1, axis=1)
    log_w = (
        log_bond[configs, right].sum(axis=(1, 2))
        + log_bond[configs, up].sum(axis=(1, 2))
        + log_site[configs].sum(axis=(1, 2))
    )
    top = log_w.max()
    return float((top + np.log(np.exp(log_w - top).sum())) / n)


def ising_weights(beta: float, h: float = 0.0):
    spins = np.array([1.0, -1.0])
    return np.exp(beta * np.outer(spins, spins)), np.exp(beta * h * spins)


def potts_weights(beta: float, q: int, h: float = 0.0):
    return np.exp(beta * np.eye(q)), np.exp(beta * h * np.eye(q)[0])
