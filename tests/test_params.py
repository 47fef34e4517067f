"""The one parameter type: validation, parsing and one-line messages."""

from __future__ import annotations

import pytest

from fedcore.errors import ConfigError
from fedcore.params import Param, defaults, parse, validate

SCHEMA = {"k": Param(int, 4, 1, 50, help="clusters"),
          "eps": Param(float, 0.5, 0.0, None, help="radius"),
          "mode": Param(str, "a", choices=("a", "b"), help="mode"),
          "flag": Param(bool, False, help="flag"),
          "name": Param(str, "", help="free text")}


def test_validate_fills_defaults_and_coerces_text():
    assert validate(SCHEMA) == defaults(SCHEMA)
    out = validate(SCHEMA, {"k": "7", "eps": "2", "flag": "yes", "mode": "b", "name": 3})
    assert out == {"k": 7, "eps": 2.0, "mode": "b", "flag": True, "name": "3"}
    assert validate(SCHEMA, {"k": 3.0})["k"] == 3 and isinstance(validate(SCHEMA)["eps"], float)


@pytest.mark.parametrize("values, words", [
    ({"k": "banana"}, "method 'x': k='banana' is not an int in [1, 50]"),
    ({"k": 2.5}, "is not an int"),
    ({"k": True}, "is not an int"),
    ({"k": 0}, "outside the allowed range (below the minimum): must be an int in [1, 50]"),
    ({"k": 51}, "above the maximum"),
    ({"eps": -1}, "must be a float >= 0.0"),
    ({"eps": "nan"}, "is not a float"),
    ({"mode": "c"}, "not in the allowed choices: a, b"),
    ({"flag": "maybe"}, "is not a bool"),
    ({"kk": 1}, "method 'x': unknown parameter 'kk'; parameters: k, eps, mode, flag, name"),
])
def test_bad_values_are_one_line_naming_entry_parameter_and_range(values, words):
    with pytest.raises(ConfigError) as info:
        validate(SCHEMA, values, "method 'x'")
    message = str(info.value)
    assert words in message and "\n" not in message and message.startswith("method 'x'")


def test_parse_cli_text():
    assert parse(SCHEMA, ["k=3", "eps = 0.25", "flag=true", "name=a=b"]) == {
        "k": 3, "eps": 0.25, "flag": True, "name": "a=b"}
    assert parse(SCHEMA, "mode=b") == {"mode": "b"}
    with pytest.raises(ConfigError, match="unknown parameter 'q'"):
        parse(SCHEMA, "q=1", "method 'x'")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse(SCHEMA, "k")
    with pytest.raises(ConfigError, match="k='abc' is not an int"):
        parse(SCHEMA, "k=abc", "method 'x'")


def test_param_is_frozen_and_describes_itself():
    p = SCHEMA["k"]
    with pytest.raises(AttributeError):
        p.default = 3  # type: ignore[misc]
    assert p.with_(max=3).max == 3 and p.max == 50
    assert p.to_dict() == {"type": "int", "default": 4, "min": 1, "max": 50, "choices": None,
                           "help": "clusters"}
    with pytest.raises(TypeError):
        Param(list, [])


def test_strategies_validate_at_construction():
    from fedcore.strategies import STRATEGIES
    with pytest.raises(ConfigError, match="method 'ifca': n_clusters='banana'"):
        STRATEGIES["ifca"](n_clusters="banana")
    with pytest.raises(ConfigError, match="method 'cfl': eps1=-5"):
        STRATEGIES["cfl"](eps1=-5)
    with pytest.raises(ConfigError, match="not in the allowed choices"):
        STRATEGIES["fesem"](init="bogus")
    assert STRATEGIES["ifca"](n_clusters="3").get_params()["n_clusters"] == 3


def test_explainer_parameters_are_validated():
    from fedcore.explain import EXPLAINERS
    with pytest.raises(ConfigError, match="explainer 'membership': threshold=2.0"):
        EXPLAINERS["membership"].validate({"threshold": 2})
    assert EXPLAINERS["summary"].validate({"top": "4"}) == {"top": 4}
