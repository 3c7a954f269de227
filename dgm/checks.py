"""Assertion helpers for the labs' test cells: messages a student can act on.

Every failure says what was checked, what was expected and what was got. A test may also pass
*hints*: values that a known misconception would produce, each with an explanation; when the
student's answer matches one, the message names the misconception ("your KL is negative: are the
arguments swapped?"). The reference values and hints are computed in the test cells, never here:
this module holds no solution.

Test cells reload this module before use (``checks = importlib.reload(dgm.checks)``), so an answer
cell that replaces one of these functions cannot change a test's verdict.
"""

from __future__ import annotations

import linecache
import math
import os
import sys
from collections.abc import Iterable

import numpy as np


class CheckFailure(AssertionError):
    """A failed check; its message is meant for the student.

    IPython (JupyterLab, Colab, and nbgrader's autograde, which runs an IPython kernel) shows an exception
    through its ``_render_traceback_`` when it has one. A failed check is feedback, not a crash: it is shown
    as its message and the test line that failed, not as ~25 lines of frames inside this module with the
    message at the bottom. The cell still raises, so nbgrader still scores the test 0.
    """

    def _render_traceback_(self) -> list[str]:
        lines = [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]
        where = _test_line(self.__traceback__)
        if where:
            lines.append(where)
        return lines


def _test_line(traceback) -> str:
    """Where the failed check is in the cell being run (its outermost frame outside IPython and this module)."""
    ipython = _ipython_dir()
    while traceback is not None:
        code = traceback.tb_frame.f_code
        # Skip IPython's own frames (it runs the cell from inside its package) and this module's.
        if code.co_filename != __file__ and not (ipython and code.co_filename.startswith(ipython)):
            line = linecache.getline(code.co_filename, traceback.tb_lineno).strip()
            return f"(the check that failed: line {traceback.tb_lineno} of this cell, `{line}`)" if line else ""
        traceback = traceback.tb_next
    return ""


def _ipython_dir() -> str:
    module = sys.modules.get("IPython")
    return os.path.dirname(module.__file__) if module and getattr(module, "__file__", None) else ""


def _fmt(value: np.ndarray) -> str:
    with np.printoptions(precision=5, suppress=True, threshold=12, edgeitems=3):
        return np.array2string(np.asarray(value), separator=", ") if np.ndim(value) else f"{float(value):.6g}"


def as_array(value, what: str) -> np.ndarray:
    """Convert a student's return value (NumPy, TensorFlow, Python number) to a float64 array."""
    if value is None:
        raise CheckFailure(f"{what} returned None: did you forget the `return` statement?")
    if isinstance(value, (tuple, list)) and value and not np.isscalar(value[0]) and np.ndim(value[0]) > 0:
        raise CheckFailure(f"{what} returned a {type(value).__name__} of arrays; expected one array.")
    try:
        array = np.array(value, dtype=np.float64)
    except Exception as err:  # e.g. a string or a distribution object
        raise CheckFailure(
            f"{what} returned {type(value).__name__}, which is not a number or an array: {err}"
        ) from None
    return array


def _matching_hint(got: np.ndarray, hints: Iterable[tuple[object, str]], rtol: float, atol: float) -> str | None:
    for wrong, message in hints:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=rtol, atol=atol, equal_nan=True):
            return message
    return None


def assert_close(
    got, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6, hints: Iterable[tuple[object, str]] = ()
) -> None:
    """Check ``got`` against ``expected`` (same shape, finite where expected is, close)."""
    hints = list(hints)
    got = as_array(got, what)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        if got.size == expected.size and got.squeeze().shape == expected.squeeze().shape:
            extra = " (same values, extra or missing axes of size 1: check keepdims/reshape)"
        elif got.ndim == 0 and expected.ndim > 0:
            extra = " (one number instead of one per item: did you sum or average over the batch?)"
        else:
            extra = ""
        raise CheckFailure(f"{what}: expected shape {expected.shape}, got shape {got.shape}{extra}.")
    bad = np.isnan(got) & ~np.isnan(expected)
    if bad.any():
        hint = _matching_hint(got, hints, rtol, atol)
        raise CheckFailure(
            f"{what}: got NaN where {_fmt(expected[bad])} was expected (got {_fmt(got)})."
            + (f" Hint: {hint}" if hint else " Look for 0 * log(0), log of a negative number or 0/0.")
        )
    if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        hint = _matching_hint(got, hints, rtol, atol)
        raise CheckFailure(f"{what}: expected {_fmt(expected)}, got {_fmt(got)}." + (f" Hint: {hint}" if hint else ""))


def assert_true(condition: bool, message: str) -> None:
    if not bool(condition):
        raise CheckFailure(message)


def assert_in_range(got, low: float, high: float, what: str, hint: str = "") -> None:
    value = float(as_array(got, what))
    if not (low <= value <= high) or math.isnan(value):
        raise CheckFailure(
            f"{what}: expected a value in [{low:.6g}, {high:.6g}], got {value:.6g}." + (f" {hint}" if hint else "")
        )


def assert_within_se(
    got, expected: float, standard_error: float, what: str, z: float = 5.0, hints: Iterable[tuple[object, str]] = ()
) -> None:
    """A Monte Carlo estimate should lie within ``z`` standard errors of the exact value."""
    value = float(as_array(got, what))
    if not abs(value - expected) <= z * standard_error:
        # Relative slack too, so that e.g. "a sum instead of a mean" (n times the value) is recognised.
        hint = _matching_hint(np.asarray(value), hints, rtol=0.05, atol=z * standard_error)
        raise CheckFailure(
            f"{what}: expected about {expected:.5g} (± {z * standard_error:.2g}, {z:g} standard errors), "
            f"got {value:.5g}." + (f" Hint: {hint}" if hint else "")
        )


def without_tfp_kl(answer, name: str):
    """``answer`` wrapped so that, while it runs, TFP's KL divergences raise a CheckFailure.

    For exercises whose point is the formula: ``tfd.kl_divergence``, ``tfp.distributions.kl_divergence``
    and a distribution's ``.kl_divergence`` method all look the formula up through TFP's private
    ``kullback_leibler._registered_kl`` (TFP 0.25), which raises meanwhile and is restored afterwards.
    The test computes its own TFP reference outside the call.
    """
    from tensorflow_probability.python.distributions import kullback_leibler

    def refuse(*args, **kwargs):
        raise CheckFailure(
            f"{name} called TFP's KL (tfd.kl_divergence or a distribution's .kl_divergence method): "
            "implement the formula; tfd.kl_divergence is not allowed in this exercise."
        )

    def call(*args, **kwargs):
        saved = kullback_leibler._registered_kl
        kullback_leibler._registered_kl = refuse
        try:
            return answer(*args, **kwargs)
        finally:
            kullback_leibler._registered_kl = saved

    return call
