"""diffsci.testing.check_grads on itself: planted wrong rules fail, correct rules pass."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from diffsci.testing import (
    check_finite_differences,
    check_grads,
    check_jvp_vjp,
    check_second_order,
    check_transforms,
)
from diffsci.testing import strategies as dst

from . import _planted as planted

RNG = np.random.default_rng(1234)
X3 = jnp.asarray([0.3, 1.2, -2.0])
A = jnp.asarray(RNG.standard_normal((3, 3)))  # not symmetric
Z = jnp.asarray(RNG.standard_normal(3) + 1j * RNG.standard_normal(3))
W = jnp.asarray(RNG.standard_normal(3) + 1j * RNG.standard_normal(3))


def _gapped_symmetric(n, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return jnp.asarray((q * np.arange(1.0, n + 1)) @ q.T)


def _gapped_hermitian(n, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    return jnp.asarray((q * np.arange(1.0, n + 1)) @ q.conj().T)


# -- correct rules pass -----------------------------------------------------------------------


def test_jnp_functions_pass_to_second_order():
    check_grads(lambda x: jnp.sin(x) * x**2, X3, order=2)
    check_grads(lambda a, b: {"p": a @ b, "q": jnp.exp(a).sum()}, A, X3, order=2, num_directions=1)


def test_complex_functions_pass():
    check_grads(lambda z: jnp.abs(z) ** 2 + jnp.conj(z) * z**2, Z, order=2)
    check_grads(lambda w, z: jnp.vdot(w, z), W, Z)
    check_grads(lambda x: jnp.exp(1j * x) * x, X3, num_directions=1)  # real in, complex out
    check_grads(lambda z: {"re": jnp.real(z**3)}, Z, num_directions=1)  # complex in, real out


def test_correct_custom_rules_pass():
    check_grads(planted.sin_correct, X3, modes=("rev",), order=2)
    check_grads(planted.matvec_correct, A, X3, modes=("rev",))
    check_grads(planted.vdot_correct, W, Z, modes=("rev",))
    check_grads(planted.cube_correct, X3, order=2)
    check_grads(
        lambda a, b: planted.solve_with_transpose(a, b, wrong=False), A + 3 * jnp.eye(3), X3
    )


def test_gauge_invariant_eigh_functions_pass():
    def real_loss(a):
        w, v = jnp.linalg.eigh(a)
        return jnp.sum(w**2) + jnp.sum(v**4 * jnp.arange(3.0)[None, :])

    def complex_loss(h):
        w, v = jnp.linalg.eigh(h)
        return jnp.sum(jnp.abs(v[0]) ** 2 * jnp.arange(3.0)) + w[0]

    check_grads(real_loss, _gapped_symmetric(3), order=2, num_directions=1)
    check_grads(complex_loss, _gapped_hermitian(3), num_directions=1)


def test_pytree_arguments_and_outputs():
    params = {"w": A, "b": (X3, jnp.asarray(0.5))}

    def f(p, x):
        return [jnp.tanh(p["w"] @ x + p["b"][0]) * p["b"][1], {"n": jnp.sum(x**2)}]

    check_grads(f, params, X3, order=2, num_directions=1)


def test_argnums_and_integer_leaves():
    def f(x, n, scale):
        return jnp.sin(x) ** n * scale

    check_grads(f, X3, jnp.asarray(3), 2.0, argnums=0)
    check_grads(f, X3, jnp.asarray(3), jnp.asarray(2.0), argnums=(0, 2))


# -- planted bugs fail ------------------------------------------------------------------------


def test_sign_error_in_custom_vjp_fails():
    with pytest.raises(AssertionError, match="reverse mode"):
        check_grads(planted.sin_sign_error, X3, modes=("rev",))


def test_transposition_error_fails():
    with pytest.raises(AssertionError, match=r"args\[1\]"):
        check_grads(planted.matvec_transposition_error, A, X3, modes=("rev",))


def test_mismatched_transpose_rule_fails_the_dot_product_test():
    def f(a, b):
        return planted.solve_with_transpose(a, b, wrong=True)

    a = A + 3 * jnp.eye(3)
    with pytest.raises(AssertionError, match=r"dot product: jvp against vjp\] input args\[\d\]"):
        check_jvp_vjp(f, a, X3)
    with pytest.raises(AssertionError, match="dot product"):
        check_grads(f, a, X3)


def test_missing_conjugate_fails():
    with pytest.raises(AssertionError, match=r"args\[1\].*(real|imag) part"):
        check_grads(planted.vdot_missing_conjugate, W, Z, modes=("rev",))
    with pytest.raises(AssertionError, match="forward mode"):
        check_finite_differences(planted.abs2_missing_conjugate, Z)


def test_wrong_second_derivative_fails_only_at_second_order():
    check_grads(planted.cube_wrong_second, X3)  # the first derivative is right
    with pytest.raises(AssertionError, match="second order"):
        check_grads(planted.cube_wrong_second, X3, order=2)
    with pytest.raises(AssertionError, match="second order"):
        check_second_order(planted.cube_wrong_second, X3, modes=("fwd",))
    with pytest.raises(AssertionError, match="second order"):
        check_second_order(planted.cube_wrong_second, X3, modes=("rev",))


def test_batching_bug_fails_the_vmap_check():
    with pytest.raises(AssertionError, match="vmap"):
        check_transforms(planted.scale_by_mean_batch_bug, X3, modes=("fwd",), jit=False)


def test_custom_vjp_with_defaults_checks_reverse_mode_and_says_so():
    report = check_grads(planted.sin_correct, X3, order=2)
    assert report.modes == ("rev",)
    assert any("forward mode" in note for note in report.skipped)
    assert "skipped: forward mode" in str(report)
    # the defaults still find a wrong rule, and the report says what was skipped
    with pytest.raises(AssertionError, match="(?s)skipped: forward mode.*reverse mode \\(vjp\\)"):
        check_grads(planted.sin_sign_error, X3)
    for check in (check_finite_differences, check_second_order, check_transforms):
        assert check(planted.sin_correct, X3).modes == ("rev",)
    # a function with both modes is checked in both
    assert check_grads(jnp.sin, X3).modes == ("fwd", "rev")
    assert check_grads(jnp.sin, X3).skipped == ()


def test_custom_vjp_in_forward_mode_asked_for_says_what_to_do():
    with pytest.raises(TypeError, match="modes=\\('rev',\\)"):
        check_grads(planted.sin_correct, X3, modes=("fwd", "rev"))
    with pytest.raises(TypeError, match="modes=\\('rev',\\)"):
        check_jvp_vjp(planted.sin_correct, X3)


def test_a_function_that_raises_near_the_point_is_reported_as_such():
    import equinox as eqx

    def only_symmetric(a):
        a = eqx.error_if(a, jnp.max(jnp.abs(a - a.T)) > 1e-12, "only_symmetric: not symmetric")
        return jnp.trace(a @ a @ a)

    s = _gapped_symmetric(3)
    with pytest.raises(
        AssertionError, match="(?s)raised near the point.*only_symmetric: not symmetric.*structure="
    ):
        check_grads(only_symmetric, s)
    check_grads(only_symmetric, s, structure="symmetric", order=2)


def test_structured_inputs():
    import diffsci.linalg as dla

    s, h = _gapped_symmetric(4), _gapped_hermitian(4)
    check_grads(dla.eigvalsh, s, structure="symmetric", order=2)
    check_grads(dla.eigvalsh, h, structure="hermitian")
    # one entry per argument
    check_grads(lambda a, x: x @ dla.eigvalsh(a), h, jnp.arange(4.0), structure=("hermitian", None))
    # unitary and orthogonal points, with the Cayley retraction: a loss of U that is not
    # invariant, so that the tangent directions matter
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)))
    d = jnp.diag(jnp.arange(1.0, 4.0))

    def loss(u):
        return jnp.sum(jnp.abs(jnp.diag(u @ d @ u.conj().T @ A)) ** 2)

    check_grads(loss, jnp.asarray(q), structure="unitary", order=2)
    o, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    check_grads(loss, jnp.asarray(o), structure="unitary")
    # a user's own retraction: the unit sphere
    x = X3 / jnp.linalg.norm(X3)
    check_grads(lambda y: y @ A @ y, x, structure=lambda y: y / jnp.linalg.norm(y), order=2)
    # a retraction of a scalar argument (the positive half-line, fixing 1)
    check_grads(lambda t: jnp.log(t) * t, jnp.asarray(1.0), structure=jnp.abs)


def test_structure_refusals():
    with pytest.raises(ValueError, match=r"args\[0\] is not symmetric"):
        check_grads(jnp.linalg.eigvalsh, A, structure="symmetric")
    with pytest.raises(ValueError, match="square matrices"):
        check_grads(jnp.sum, X3, structure="hermitian")
    with pytest.raises(ValueError, match="one entry per argument"):
        check_grads(lambda a, x: a @ x, A, X3, structure=("symmetric",))
    with pytest.raises(ValueError, match="must be None"):
        check_grads(jnp.sum, A, structure="skew")
    with pytest.raises(ValueError, match="must fix the point"):
        check_grads(jnp.sum, X3, structure=lambda y: y / jnp.linalg.norm(y))


def test_jax_calling_convention_gets_a_hint():
    with pytest.raises(TypeError, match=r"check_grads\(f, \*args, order=2\)"):
        check_grads(lambda x: jnp.sum(x**2), (X3,), 2)
    with pytest.raises(TypeError, match="JAX's calling convention"):
        check_grads(lambda x, y: jnp.sum(x * y), (X3, X3))
    # a function that really takes a tuple and an int is checked as asked
    check_grads(lambda xs, n: jnp.sum(xs[0] ** n), (X3,), 2)


def test_untraceable_function_gets_advice():
    def relu_with_python_branch(x):
        return x if float(x) > 0 else 0.1 * x

    with pytest.raises(TypeError, match="jnp.where or lax.cond"):
        check_grads(relu_with_python_branch, jnp.asarray(0.7))


def test_non_finite_point_fails():
    with pytest.raises(AssertionError, match="not finite"):
        check_grads(jnp.log, jnp.asarray([1.0, -1.0]))


# -- the report --------------------------------------------------------------------------------


def test_report_names_leaf_index_and_values():
    @jax.custom_vjp
    def f(p):
        return p["w"] * p["b"][1]

    def bwd(res, ct):
        grad_w = ct * res["b"][1]
        grad_b1 = ct * res["w"]
        grad_b1 = grad_b1.at[2].multiply(-1.0)  # wrong in one entry only
        return ({"w": grad_w, "b": (jnp.zeros_like(res["b"][0]), grad_b1)},)

    f.defvjp(lambda p: (f(p), p), bwd)
    params = {"w": X3, "b": (jnp.zeros(2), X3 + 1.0)}
    with pytest.raises(AssertionError) as info:
        check_grads(f, params, modes=("rev",), vmap=False)
    report = str(info.value)
    assert "args[0]['b'][1] at index (2,)" in report
    assert "args[0]['w']" not in report.split("[finite")[1]
    for word in ("AD", "FD", "error estimate", "tolerance"):
        assert word in report


def test_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        check_grads(jnp.sin, X3, order=3)
    with pytest.raises(ValueError, match="modes"):
        check_grads(jnp.sin, X3, modes=("backward",))
    with pytest.raises(ValueError, match="nothing to differentiate"):
        check_grads(lambda n: n * 1.0, jnp.arange(3))
    with pytest.raises(ValueError, match="out of range"):
        check_grads(jnp.sin, X3, argnums=1)


def test_equinox_modules_and_static_leaves():
    import equinox as eqx

    class Layer(eqx.Module):
        weight: jax.Array
        activation: callable = eqx.field(static=True)

        def __call__(self, x):
            return self.activation(self.weight @ x)

    layer = Layer(A, jnp.tanh)
    check_grads(layer, X3, num_directions=1)  # the module itself is the function
    check_grads(lambda m, x: m(x), layer, X3, num_directions=1)  # the module as an argument

    def with_callable_leaf(params, x):
        return params["act"](params["w"] @ x)

    check_grads(with_callable_leaf, {"w": A, "act": jnp.sin}, X3, num_directions=1)


# -- the same, as properties over random inputs -------------------------------------------------


@settings(max_examples=5)
@given(dst.arrays((3, 3)), dst.arrays(3), dst.seeds())
def test_transposition_error_is_always_caught(a, x, seed):
    a, x = jnp.asarray(a), jnp.asarray(x)
    check_grads(planted.matvec_correct, a, x, modes=("rev",), key=seed, vmap=False)
    with pytest.raises(AssertionError, match="reverse mode"):
        check_grads(planted.matvec_transposition_error, a, x, modes=("rev",), key=seed, vmap=False)


# -- compiled code is reused across fresh lambdas, and never for a different closure -----------


def test_compiled_code_is_reused_for_the_same_lambda_and_not_for_other_closures():
    from diffsci.testing._ops import COMPILED

    def check(x):
        check_grads(lambda x: jnp.sin(x) ** 2, x, vmap=False)

    check(X3)
    size = COMPILED["first_order"]._cache_size()
    check(X3 + 1.0)  # a new lambda object with the same code and closure: no new compilation
    assert COMPILED["first_order"]._cache_size() == size

    def make(sign):
        return lambda x: planted.sin_sign_error(x) if sign < 0 else planted.sin_correct(x)

    check_grads(make(1), X3, modes=("rev",), vmap=False)
    with pytest.raises(AssertionError):
        check_grads(make(-1), X3, modes=("rev",), vmap=False)
