"""Contract-sweep recipes for the public functions added by issue 27, section 3 (silent acceptance and raw
tracebacks). The sweep (tests/test_api_contract.py) imports every tests/contract_recipes*.py file."""

import numpy as np
from contract import Call, recipe


@recipe("nncourse.validation.finite_number")
def _():
    return Call(0.5, "rate", "who", minimum=0.0, maximum=1.0,
                kinds={"value": "rate", "name": "skip: the argument's name, any text",
                       "who": "skip: the caller's name, any text", "minimum": "skip: a bound, None allowed",
                       "maximum": "skip: a bound, None allowed"})


@recipe("nncourse.numpy_nn.init.weight")
def _():
    return Call("he", (3, 4), np.random.default_rng(0), "Linear",
                kinds={"init": "skip: a name or any callable", "shape": "skip: checked as a weight shape",
                       "rng": "object", "who": "skip: the caller's name, any text"})
