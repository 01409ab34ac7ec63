"""SplatParams: Splatter's defaults, recycling, and a clear error for every kind of bad value."""

from __future__ import annotations

import dataclasses
import math

import jsonschema
import pytest

from michigan.simulate import SplatParams, json_schema_properties, param_specs
from michigan.simulate.params import _snake_case, path_order
from michigan.simulate.screen import ScreenParams

# Splatter 1.22.1 newSplatParams() defaults (the team's splat-model.md, section 1), by Splatter name.
SPLATTER_DEFAULTS = {
    "nGenes": 10000,
    "batchCells": (100,),
    "batch.facLoc": (0.1,),
    "batch.facScale": (0.1,),
    "batch.rmEffect": False,
    "mean.shape": 0.6,
    "mean.rate": 0.3,
    "lib.loc": 11,
    "lib.scale": 0.2,
    "lib.norm": False,
    "out.prob": 0.05,
    "out.facLoc": 4,
    "out.facScale": 0.5,
    "group.prob": (1.0,),
    "de.prob": (0.1,),
    "de.downProb": (0.5,),
    "de.facLoc": (0.1,),
    "de.facScale": (0.4,),
    "bcv.common": 0.1,
    "bcv.df": 60,
    "dropout.type": "none",
    "dropout.mid": (0.0,),
    "dropout.shape": (-1.0,),
    "path.from": (0,),
    "path.nSteps": (100,),
    "path.skew": (0.5,),
    "path.nonlinearProb": 0.1,
    "path.sigmaFac": 0.8,
}


def test_defaults_are_splatters_and_every_parameter_is_covered():
    defaults = SplatParams(seed=0)
    by_splatter = {s.splatter_name: s for s in param_specs(SplatParams) if s.name != "seed"}
    assert set(by_splatter) == set(SPLATTER_DEFAULTS)
    for splatter_name, expected in SPLATTER_DEFAULTS.items():
        assert getattr(defaults, by_splatter[splatter_name].name) == expected, splatter_name
    assert (defaults.n_cells, defaults.n_batches, defaults.n_paths) == (100, 1, 1)


def test_snake_case_names_follow_splatter_names():
    for spec in param_specs(SplatParams):
        assert _snake_case(spec.splatter_name) == spec.name
    assert _snake_case("path.nSteps") == "path_n_steps"


def test_per_batch_and_per_path_values_are_recycled():
    params = SplatParams(seed=1, batch_cells=[10, 20, 30], group_prob=[0.25, 0.75], de_prob=0.3)
    assert params.batch_fac_loc == (0.1, 0.1, 0.1)
    assert params.de_prob == (0.3, 0.3)
    assert params.path_n_steps == (100, 100)
    assert params.n_cells == 60
    # integral floats are accepted as integers (as Splatter's checkIntegerish), then stored as int
    assert SplatParams(seed=1, batch_cells=[10.0]).batch_cells == (10,)
    assert isinstance(SplatParams(seed=1.0).seed, int)


def test_params_are_hashable_and_frozen():
    params = SplatParams(seed=3)
    assert hash(params) == hash(SplatParams(seed=3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        (
            {"batch_cells": [100, -5]},
            r"'batch_cells' must be an integer in \[1, 10000000\]; got -5",
        ),
        (
            {"batch_cells": [100.5]},
            r"'batch_cells' must be an integer in \[1, 10000000\]; got 100.5",
        ),
        ({"batch_cells": []}, r"'batch_cells' must hold at least 1 value"),
        ({"n_genes": 0}, r"'n_genes' must be an integer in \[1, 1000000\]; got 0"),
        ({"n_genes": True}, r"'n_genes' must be an integer"),
        ({"seed": -1}, r"'seed' must be an integer >= 0"),
        ({"out_prob": 1.5}, r"'out_prob' must be a number in \[0, 1\]; got 1.5"),
        (
            {"de_prob": [0.5, -0.1], "group_prob": [0.5, 0.5]},
            r"'de_prob' must be a number in \[0, 1\]",
        ),
        ({"group_prob": [0.5, 1.5]}, r"'group_prob' must be a number in \[0, 1\]"),
        ({"group_prob": [0.5, 0.6]}, r"'group_prob' must sum to 1.*\(sum 1.1\)"),
        ({"path_skew": 2}, r"'path_skew' must be a number in \[0, 1\]"),
        ({"path_nonlinear_prob": -0.1}, r"'path_nonlinear_prob' must be a number in \[0, 1\]"),
        ({"bcv_common": -1}, r"'bcv_common' must be a number >= 0"),
        ({"bcv_df": 0}, r"'bcv_df' must be a number > 0"),
        ({"mean_rate": math.nan}, r"'mean_rate' must be a number > 0"),
        ({"lib_loc": math.inf}, r"'lib_loc' must be a number \(any finite value\)"),
        ({"lib_norm": "yes"}, r"'lib_norm' must be true or false"),
        ({"dropout_type": "gene"}, r"'dropout_type' must be one of 'none', 'experiment'"),
        (
            {"batch_cells": [5, 5], "batch_fac_loc": [0.1, 0.2, 0.3]},
            r"'batch_fac_loc' must hold one value or 2 values \(one per batch\); got 3",
        ),
        (
            {"group_prob": [0.5, 0.5], "path_n_steps": [10, 20, 30]},
            r"'path_n_steps' must hold one value or 2 values \(one per path\)",
        ),
        (
            {"group_prob": [0.5, 0.5], "path_from": [0, 3]},
            r"'path_from' must hold integers in \[0, 2\]",
        ),
        ({"group_prob": [0.5, 0.5], "path_from": [1, 2]}, r"'path_from' must contain 0"),
        (
            {"group_prob": [0.5, 0.5], "path_from": [0, 2]},
            r"path\(s\) \[2\] cannot begin at themselves",
        ),
        (
            {"group_prob": [0.4, 0.3, 0.3], "path_from": [0, 3, 2]},
            r"contains a cycle: paths \[2, 3\]",
        ),
        (
            {"batch_cells": [5, 5], "dropout_type": "batch", "dropout_mid": [1.0]},
            r"'dropout_mid' must hold 2 value\(s\) when dropout_type is 'batch'; got 1",
        ),
    ],
)
def test_bad_values_raise_naming_parameter_and_range(values, pattern):
    with pytest.raises(ValueError, match=pattern):
        SplatParams.from_dict({"seed": 1, **values})


def test_inf_bcv_df_is_allowed():
    assert SplatParams(seed=1, bcv_df=math.inf).bcv_df == math.inf


def test_unknown_names_are_rejected_with_suggestions():
    with pytest.raises(ValueError, match=r"'path_nsteps' \(did you mean 'path_n_steps'\?\)"):
        SplatParams.from_dict({"seed": 1, "path_nsteps": 20})
    # Splatter's dotted names point to ours
    with pytest.raises(ValueError, match=r"'path.nSteps' \(did you mean 'path_n_steps'\?\)"):
        SplatParams.from_dict({"seed": 1, "path.nSteps": 20})
    with pytest.raises(
        ValueError, match=r"unknown Splat parameter\(s\) 'n_cells'.*valid names are"
    ):
        SplatParams.from_dict({"seed": 1, "n_cells": 20})


def test_missing_seed_is_named():
    with pytest.raises(ValueError, match=r"missing required Splat parameter\(s\): seed"):
        SplatParams.from_dict({"n_genes": 10})


def test_path_order_follows_splatters_queue():
    assert path_order([0, 0]) == (0, 1)
    # queue 1, 2, 3: path 1 waits for path 2 (its origin), path 3 follows path 2, then path 1
    assert path_order([2, 0, 2]) == (1, 2, 0)
    assert path_order([0, 1, 0]) == (0, 1, 2)
    assert path_order([0, 3, 1]) == (0, 2, 1)


def test_to_dict_round_trips():
    params = SplatParams(seed=5, batch_cells=[3, 4], group_prob=[0.5, 0.5], de_fac_loc=[0.1, 0.2])
    assert SplatParams.from_dict(params.to_dict()) == params


@pytest.mark.parametrize("cls", [SplatParams, ScreenParams])
def test_json_schema_accepts_defaults_and_rejects_out_of_range(cls):
    properties = json_schema_properties(cls)
    assert list(properties) == [s.name for s in param_specs(cls)]
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    defaults = {name: prop["default"] for name, prop in properties.items() if "default" in prop}
    assert "seed" not in defaults  # required: no default
    jsonschema.validate({**defaults, "seed": 1}, schema)
    for name, prop in properties.items():
        assert prop["description"], name
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"seed": -1}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"seed": 1, "typo": 1}, schema)


def test_json_schema_accepts_scalar_or_list_for_per_path_values():
    schema = {"type": "object", "properties": json_schema_properties(SplatParams)}
    jsonschema.validate({"de_prob": 0.5}, schema)
    jsonschema.validate({"de_prob": [0.5, 0.2]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"de_prob": [0.5, 1.2]}, schema)
