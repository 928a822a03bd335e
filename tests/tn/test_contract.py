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


@pytest.mark.parametrize("strategy", ["greedy", "random-greedy-128", "random-greedy-8"])
def test_every_accepted_opt_einsum_strategy_runs(strategy):
    # "random-greedy-<n>" is accepted for any n >= 1 (opt_einsum itself names only n = 128)
    eq, tensors = _grid(2, 3, 2, seed=1)
    out = tn.contract(eq, *tensors, optimizer=tn.OptEinsum(strategy))
    np.testing.assert_allclose(out, np.einsum(eq, *tensors), rtol=1e-12)


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


# --------------------------------------------------------------------------------------------
# Degenerate specs, scalars, zero-size dimensions and '...' broadcasting, against np.einsum.
# --------------------------------------------------------------------------------------------

# (subscripts, operand shapes)
_EINSUM_CASES = [
    ("->", [()]),
    ("", [()]),
    ("ij->ji", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]),
    (",ij->ij", [(), (2, 3)]),
    ("ij,->ji", [(2, 3), ()]),
    (",->", [(), ()]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("ij,jk->ik", [(0, 2), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 0), (0, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (1, 3, 4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (1, 3, 4, 5)]),
    ("...ij,...jk->...ik", [(3, 4), (2, 4, 5)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("...ii->i...", [(2, 1, 3, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("...ij,jk->...ik", [(5, 2, 3), (3, 4)]),
    ("ij,...jk->...ik", [(2, 3), (5, 3, 4)]),
    ("i...j,j...->i...", [(2, 4, 5, 3), (3, 4, 1)]),
    ("...,...->...", [(2, 1), (3,)]),
    ("...,i->...i", [(1,), (3,)]),
    ("...->...", [()]),
    ("...ij,...jk,...kl->...il", [(2, 1, 2, 3), (3, 3, 4), (1, 4, 2)]),
    ("...ij,...jk->...ik", [(0, 1, 2, 3), (1, 4, 3, 2)]),
    ("... i j , ... j k -> ... i k", [(2, 3, 4), (2, 4, 5)]),
]


def _operands(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    ops = []
    for s in shapes:
        x = rng.normal(size=s)
        if np.issubdtype(dtype, np.complexfloating):
            x = x + 1j * rng.normal(size=s)
        ops.append(np.asarray(x, dtype=dtype))
    return ops


def _assert_close(actual, expected, dtype):
    # A few hundred roundings of the working precision, relative to the size of the result.
    tol = 200 * np.finfo(dtype).eps
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    assert np.shape(actual) == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize(("eq", "shapes"), _EINSUM_CASES)
def test_degenerate_and_ellipsis_specs_equal_np_einsum(eq, shapes, dtype):
    ops = _operands(shapes, dtype)
    out = tn.contract(eq, *ops)
    assert out.dtype == np.result_type(*ops)
    _assert_close(out, np.einsum(eq, *ops), dtype)
    # The path alone (from shapes) is reusable for the same spec, under jit too.
    path = tn.contraction_path(eq, *shapes)
    jitted = jax.jit(lambda *xs: tn.contract(eq, *xs, path=path))
    _assert_close(jitted(*ops), np.einsum(eq, *ops), dtype)


@pytest.mark.parametrize(
    ("eq", "shapes"),
    [
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (1, 3, 4, 5)]),
        ("...ii->...i", [(2, 3, 3)]),
        (",ij->ij", [(), (2, 3)]),
    ],
)
def test_float32_with_float32_tolerance(eq, shapes):
    ops = _operands(shapes, np.float32, seed=1)
    out = tn.contract(eq, *ops)
    assert out.dtype == np.float32
    expected = np.einsum(eq, *[o.astype(np.float64) for o in ops])
    _assert_close(out, expected, np.float32)


def test_scalar_operands():
    # A 0-d array with "->" is returned as it is; Python scalars are 0-d operands.
    x = jnp.asarray(2.5)
    out = tn.contract("->", x)
    assert out.shape == () and float(out) == 2.5
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(tn.contract(",ij->ij", 3.0, a), np.einsum(",ij->ij", 3.0, a))
    np.testing.assert_allclose(tn.contract(",->", 2.0, 4.0), np.einsum(",->", 2.0, 4.0))
    assert tn.contraction_path(",ij->ij", (), (2, 3)).shapes == ((), (2, 3))


def test_zero_size_dimensions():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 0)), rng.normal(size=(0, 4))
    out = tn.contract("ij,jk->ik", a, b)  # an empty sum: zeros
    np.testing.assert_array_equal(out, np.einsum("ij,jk->ik", a, b))
    assert out.shape == (3, 4)
    out = tn.contract(
        "...ij,...jk->...ik", rng.normal(size=(0, 1, 3, 2)), rng.normal(size=(1, 5, 2, 4))
    )
    assert out.shape == (0, 5, 3, 4)
    g = jax.grad(lambda a: jnp.sum(tn.contract("ij,jk->ik", a, b)))(a)
    assert g.shape == (3, 0)


@pytest.mark.parametrize(
    ("eq", "shapes"),
    [
        ("...i->i", [(4, 2, 3)]),
        ("...->", [(2, 3)]),
        ("...ij,...jk->ik", [(2, 1, 3, 4), (1, 3, 4, 5)]),
    ],
)
def test_ellipsis_missing_from_output_is_summed_as_jnp_einsum(eq, shapes):
    # np.einsum refuses these; jnp.einsum (and opt_einsum) sum the '...' dimensions.
    ops = _operands(shapes, np.float64, seed=3)
    _assert_close(tn.contract(eq, *ops), jnp.einsum(eq, *ops), np.float64)


def test_ellipsis_with_named_legs():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(1, 3, 4, 5))
    expected = np.einsum("...ij,...jk->...ik", a, b)
    np.testing.assert_allclose(tn.contract([(..., "i", "j"), (..., "j", "k")], a, b), expected)
    np.testing.assert_allclose(tn.contract([("...", 0, 1), ("...", 1, 2)], a, b), expected)
    np.testing.assert_allclose(tn.contract(["...ij", "...jk"], a, b), expected)
    out = tn.contract([(..., "i", "j"), (..., "j", "k")], a, b, output=("k", ..., "i"))
    np.testing.assert_allclose(out, np.einsum("...ij,...jk->k...i", a, b))


@pytest.mark.parametrize(
    ("eq", "shapes"),
    [
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (1, 3, 4, 5)]),
        ("...ii->...i", [(2, 3, 3)]),
        ("i...->...", [(2, 3, 4)]),
        ("...ij,jk->...ik", [(5, 2, 3), (3, 4)]),
        (",...i->...i", [(), (2, 1, 3)]),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_ellipsis_gradients_equal_jnp_einsum(eq, shapes, dtype):
    ops = _operands(shapes, dtype, seed=5)
    weights = _operands([np.einsum(eq, *ops).shape], np.float64, seed=6)[0]

    def loss(einsum):
        return lambda *xs: jnp.sum(weights * jnp.abs(jnp.sin(einsum(eq, *xs))) ** 2)

    argnums = tuple(range(len(ops)))
    got = jax.grad(loss(tn.contract), argnums)(*ops)
    expected = jax.grad(loss(jnp.einsum), argnums)(*ops)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        _assert_close(g, e, dtype)


def test_ellipsis_under_jit_and_vmap():
    rng = np.random.default_rng(7)
    eq = "...ij,...jk->...ik"
    a, b = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(1, 3, 4, 5))
    np.testing.assert_allclose(
        jax.jit(lambda a, b: tn.contract(eq, a, b))(a, b), np.einsum(eq, a, b), rtol=1e-12
    )
    batch = rng.normal(size=(6, 2, 1, 3, 4))
    np.testing.assert_allclose(
        jax.vmap(lambda a: tn.contract(eq, a, b))(batch),
        np.einsum("z...ij,...jk->z...ik", batch, b),
        rtol=1e-12,
    )
    grads = jax.vmap(jax.grad(lambda a: jnp.sum(tn.contract(eq, a, b) ** 2)))(batch)
    expected = jax.vmap(jax.grad(lambda a: jnp.sum(jnp.einsum(eq, a, b) ** 2)))(batch)
    np.testing.assert_allclose(grads, expected, rtol=1e-12)


def test_ellipsis_path_and_slicing():
    rng = np.random.default_rng(8)
    eq = "...ab,...bc,...cd,...da->..."
    shapes = [(2, 1, 6, 6), (1, 3, 6, 6), (3, 6, 6), (2, 3, 6, 6)]
    ops = [rng.normal(size=s) for s in shapes]
    full = tn.contraction_path(eq, *shapes)
    # The size-1 '...' dimensions broadcast: the path sees the batch shape (2, 3).
    assert full.num_slices == 1 and full.largest_intermediate >= 2 * 3 * 6 * 6
    bound = full.largest_intermediate // 4
    sliced = tn.contraction_path(eq, *shapes, max_intermediate=bound)
    assert sliced.sliced and sliced.largest_intermediate <= bound
    expected = np.einsum(eq, *ops)
    np.testing.assert_allclose(tn.contract(eq, *ops, path=sliced), expected, rtol=1e-11)
    np.testing.assert_allclose(tn.contract(eq, *ops, max_intermediate=bound), expected, rtol=1e-11)
    g = jax.grad(lambda x: jnp.sum(tn.contract(eq, x, *ops[1:], path=sliced)))(ops[0])
    e = jax.grad(lambda x: jnp.sum(jnp.einsum(eq, x, *ops[1:])))(ops[0])
    np.testing.assert_allclose(g, e, rtol=1e-11)


def test_malformed_specs_raise_clear_errors():
    a = jnp.ones((2, 3))
    with pytest.raises(ValueError, match=r"`spec` has more than one '\.\.\.' in operand 0"):
        tn.contract("...i...->i", a)
    with pytest.raises(ValueError, match=r"`spec` has more than one '\.\.\.' in the output"):
        tn.contract("...i->......", a)
    with pytest.raises(ValueError, match=r"more than one '\.\.\.' in the legs of operand 0"):
        tn.contract([(..., "i", ...)], a)
    with pytest.raises(ValueError, match=r"'\.\.\.' in the output but no operand has '\.\.\.'"):
        tn.contract("ij->...ij", a)
    with pytest.raises(ValueError, match=r"`output` has '\.\.\.' in the output but no operand"):
        tn.contract([("i", "j")], a, output=(..., "i", "j"))
    with pytest.raises(
        ValueError,
        match=r"'\.\.\.' dimensions of operand 0, \(2,\), and of operand 1, \(4,\), cannot be "
        "broadcast together",
    ):
        tn.contract("...i,...i->...", a, jnp.ones((4, 3)))
    with pytest.raises(ValueError, match=r"operand 1, \(3, 2\), cannot be broadcast"):
        tn.contraction_path("...ij,...jk", (2, 3, 3, 4), (3, 2, 4, 5))
    with pytest.raises(ValueError, match=r"a '\.' that is not part of an ellipsis .* '\.\.i'"):
        tn.contract("..i", jnp.ones(3))
    with pytest.raises(ValueError, match=r"legs \('i', 'j', 'k'\) and '\.\.\.' .* shape \(2, 3\)"):
        tn.contract("...ijk", a)
    with pytest.raises(ValueError, match=r"`spec` has more than one '->'"):
        tn.contract("ij->i->j", a)
    with pytest.raises(ValueError, match=r"letters or '\.\.\.', got '1'"):
        tn.contract("i1", a)
    with pytest.raises(ValueError, match="output leg 'i' is repeated"):
        tn.contract("ij->ii", a)
    with pytest.raises(ValueError, match="1 tensors but 0 operands"):
        tn.contract("->")
    with pytest.raises(ValueError, match="`spec` names no tensors"):
        tn.contract([])
    with pytest.raises(TypeError, match=r"operand 1 must be an array or a shape .* got 2\.0"):
        tn.contraction_path("i,->i", (3,), 2.0)
