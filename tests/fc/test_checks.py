"""The shared validators: what they accept, and every refusal with its translated key."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.i18n import UserError
from explorer.fc import checks
from explorer.fc.checks import FCError


def test_fc_error_is_a_user_error_with_key_and_params():
    err = FCError("fc.error.range", name="depth", value=40, low=1, high=30)
    assert isinstance(err, UserError) and err.key == "fc.error.range" and err.params["value"] == 40


def test_accepted_values_come_back_normalised():
    assert checks.option("relu", ("sigmoid", "relu"), name="activation") == "relu"
    assert checks.integer("7", name="n", low=0, high=10) == 7 and checks.integer(3.0, name="n", low=0, high=10) == 3
    assert checks.number("0.5", name="lr", low=0, high=1) == 0.5
    arr = checks.array([[1, 2], [3, 4]], name="W", ndim=2, max_cells=4)
    assert arr.dtype == np.float64 and arr.shape == (2, 2)
    assert checks.shape_text((4, 16)) == "4×16" and checks.shape_text((4,)) == "4" and checks.shape_text(()) == "1"


@pytest.mark.parametrize(("call", "key"), [
    (lambda: checks.option("tanh", ("sigmoid", "relu"), name="activation"), "fc.error.option"),
    (lambda: checks.option(None, ("sigmoid",), name="activation"), "fc.error.option"),
    (lambda: checks.integer("x", name="n", low=0, high=9), "fc.error.not_integer"),
    (lambda: checks.integer(2.5, name="n", low=0, high=9), "fc.error.not_integer"),
    (lambda: checks.integer(True, name="n", low=0, high=9), "fc.error.not_integer"),
    (lambda: checks.integer(float("inf"), name="n", low=0, high=9), "fc.error.not_integer"),
    (lambda: checks.integer(10**400, name="n", low=0, high=9), "fc.error.not_integer"),
    (lambda: checks.integer(10, name="n", low=0, high=9), "fc.error.range"),
    (lambda: checks.number("abc", name="lr", low=0, high=1), "fc.error.not_number_value"),
    (lambda: checks.number(False, name="lr", low=0, high=1), "fc.error.not_number_value"),
    (lambda: checks.number(float("nan"), name="lr", low=0, high=1), "fc.error.not_finite"),
    (lambda: checks.number(2, name="lr", low=0, high=1), "fc.error.range"),
    (lambda: checks.array("abc", name="X", ndim=2, max_cells=9), "fc.error.not_numbers"),
    (lambda: checks.array([[1, 2], [3]], name="X", ndim=2, max_cells=9), "fc.error.not_numbers"),
    (lambda: checks.array([1, 2], name="X", ndim=2, max_cells=9), "fc.error.ndim"),
    (lambda: checks.array(np.zeros((4, 4)), name="X", ndim=2, max_cells=9), "fc.error.too_big"),
    (lambda: checks.array([[1, np.inf]], name="X", ndim=2, max_cells=9), "fc.error.not_finite"),
    (lambda: checks.array([[1, -2e6]], name="X", ndim=2, max_cells=9), "fc.error.too_large_value"),
])
def test_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)
