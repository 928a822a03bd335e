"""`contract`: results against a naive einsum, path costs against opt_einsum and cotengra."""

import jax
import jax.numpy as jnp
import numpy as np
import opt_einsum
import pytest

import diffsci.tn as tn


def _grid(rows, cols, bond, seed):
    """A random rows x cols grid network (open boundary), as einsum subscripts and tensors."""
    rng = np.random.default_rng(seed)
    symbols = iter(opt_einsum.get_symbol(i) for i in range(10_000))
    horizontal = {(r, c): next(symbols) for r in range(rows) for c in range(cols - 1)}
    vertical = {(r, c): next(symbols) for r in range(rows - 1) for c in range(cols)}
    terms = []
    for r in range(rows):
        for c in range(cols):
            legs = []
            if c > 0:
                legs.append(horizontal[r, c - 1])
            if c < cols - 1:
                legs.append(horizontal[r, c])
            if r > 0:
                legs.append(vertical[r - 1, c])
            if r < rows - 1:
                legs.append(vertical[r, c])
            terms.append("".join(legs))
    tensors = [rng.uniform(0.5, 1.0, size=(bond,) * len(t)) for t in terms]
    return ",".join(terms) + "->", tensors


def test_equals_einsum():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 4)), rng.normal(size=(4, 5, 2)), rng.normal(size=(5, 6))
    np.testing.assert_allclose(
        tn.contract("ij,jkl,km->ilm", a, b, c), jnp.einsum("ij,jkl,km->ilm", a, b, c), rtol=1e-12
    )
    # Implicit output (alphabetical, as einsum), a trace, and a single operand.
    np.testing.assert_allclose(tn.contract("ij,jk", a, b[:, :, 0]), a @ b[:, :, 0], rtol=1e-12)
    np.testing.assert_allclose(tn.contract("ii->", a[:, :3]), np.trace(a[:, :3]), rtol=1e-12)


def test_named_legs():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    out = tn.contract([("left", "bond"), ("bond", "right")], a, b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    out = tn.contract([("left", "bond"), ("bond", "right")], a, b, output=("right", "left"))
    np.testing.assert_allclose(out, (a @ b).T, rtol=1e-12)
    # Names can be any hashable values, e.g. (site, direction) tuples.
    out = tn.contract([((0, "x"), (0, 1)), ((0, 1), (1, "x"))], a, b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


def test_grid_equals_einsum_and_beats_greedy():
    eq, tensors = _grid(4, 5, 2, seed=0)
    path = tn.contraction_path(eq, *tensors)
    greedy = opt_einsum.contract_path(eq, *tensors, optimize="greedy")[1]
    assert path.flops <= int(greedy.opt_cost)
    expected = jnp.einsum(eq, *tensors, optimize="greedy")
    np.testing.assert_allclose(tn.contract(eq, *tensors, path=path), expected, rtol=1e-11)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flops_on_random_grids_against_greedy(seed):
    # 2D grids of tens of tensors with random bond dimensions: the default path is never worse
    # than opt_einsum's greedy one.
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(5, 8)), int(rng.integers(5, 8))
    eq, tensors = _grid(rows, cols, int(rng.integers(2, 5)), seed)
    shapes = [t.shape for t in tensors]
    path = tn.contraction_path(eq, *shapes)
    greedy = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")[1]
    assert path.flops <= int(greedy.opt_cost)
    assert path.largest_intermediate >= 1
    assert "FLOPs" in path.report()


def test_cotengra_against_greedy():
    pytest.importorskip("cotengra")
    eq, tensors = _grid(6, 6, 3, seed=3)
    shapes = [t.shape for t in tensors]
    path = tn.contraction_path(eq, *shapes, optimizer=tn.Cotengra(max_repeats=16))
    greedy = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")[1]
    assert path.flops <= int(greedy.opt_cost)
    eq, tensors = _grid(3, 4, 2, seed=4)
    path = tn.contraction_path(eq, *tensors, optimizer=tn.Cotengra(max_repeats=8))
    np.testing.assert_allclose(
        tn.contract(eq, *tensors, path=path), jnp.einsum(eq, *tensors), rtol=1e-11
    )


def test_slicing_bounds_memory_and_keeps_the_value():
    eq, tensors = _grid(4, 4, 4, seed=5)
    full = tn.contraction_path(eq, *tensors)
    bound = full.largest_intermediate // 8
    sliced = tn.contraction_path(eq, *tensors, max_intermediate=bound)
    assert sliced.sliced and sliced.largest_intermediate <= bound
    assert sliced.flops >= full.flops
    np.testing.assert_allclose(
        tn.contract(eq, *tensors, path=sliced), jnp.einsum(eq, *tensors), rtol=1e-11
    )


def test_path_reused_under_jit_and_differentiable():
    rng = np.random.default_rng(6)
    a, b, c = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    eq = "ij,jk,ki->"
    path = tn.contraction_path(eq, a, b, c, max_intermediate=4)
    f = jax.jit(lambda a, b, c: tn.contract(eq, a, b, c, path=path))
    np.testing.assert_allclose(f(a, b, c), np.trace(a @ b @ c), rtol=1e-12)
    g = jax.grad(lambda a: tn.contract(eq, a, b, c, path=path))(a)
    np.testing.assert_allclose(g, (b @ c).T, rtol=1e-12)


def test_errors_name_what_was_given():
    a, b = jnp.ones((3, 4)), jnp.ones((5, 6))
    with pytest.raises(ValueError, match="leg 'j' has dimension 4 in operand 0 but 5 in operand 1"):
        tn.contract("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match=r"operand 1 has legs \('j', 'k', 'l'\) .* shape \(5, 6\)"):
        tn.contract("ij,jkl->ik", a, b)
    with pytest.raises(ValueError, match="2 tensors but 1 operands"):
        tn.contract("ij,jk->ik", a)
    with pytest.raises(ValueError, match="output leg 'up' is not a leg of any tensor"):
        tn.contract([("left", "bond")], a, output=("up",))
    with pytest.raises(ValueError, match="leg 'bond' has dimension 4 in operand 0 but 5"):
        tn.contract([("left", "bond"), ("bond", "right")], a, b)
    with pytest.raises(ValueError, match=r"path was computed for ij,jk->ik with shapes"):
        path = tn.contraction_path("ij,jk->ik", (3, 4), (4, 2))
        tn.contract("ij,jk->ik", a, jnp.ones((4, 6)), path=path)
