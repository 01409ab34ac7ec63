"""The configuration contract: schema and dataclasses agree, defaults fill in, errors name the culprit."""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from pathlib import Path

import pytest
import yaml

from michigan import config as cfg
from michigan.config_checks import check_workflow_config, override_notes

REPO = Path(__file__).resolve().parents[2]
PRESETS = [REPO / "config.yaml", REPO / "config" / "paper.yaml"]


def _walk_schema(schema, path=""):
    """Yield (key path, sub-schema) for every property of every object in the schema."""
    for key, sub in schema.get("properties", {}).items():
        here = f"{path}.{key}" if path else key
        yield here, sub
        yield from _walk_schema(sub, here)


@pytest.mark.parametrize("name", sorted(cfg.SECTIONS))
def test_section_dataclass_matches_schema_one_to_one(name):
    properties = cfg.section_schema(name)["properties"]
    fields = {f.name for f in dataclasses.fields(cfg.SECTIONS[name])}
    assert fields == set(properties), (
        f"{name}: only in dataclass {sorted(fields - set(properties))}, "
        f"only in schema {sorted(set(properties) - fields)}"
    )


def test_every_section_with_object_schema_has_a_dataclass():
    objects = {k for k, v in cfg.load_schema()["properties"].items() if v.get("type") == "object"}
    assert objects == set(cfg.SECTIONS)


def test_every_key_has_a_description_and_a_default():
    for path, sub in _walk_schema(cfg.load_schema()):
        assert sub.get("description"), f"{path} has no description"
        assert "default" in sub, f"{path} has no default"


@pytest.mark.parametrize("name", sorted(cfg.SECTIONS))
def test_defaults_alone_make_a_valid_hashable_section(name):
    section = cfg.load_section(name, params={})
    hash(section)  # frozen sections can be static arguments of jax.jit
    for field in dataclasses.fields(section):
        value = getattr(section, field.name)
        assert not isinstance(value, list | dict), f"{name}.{field.name} is mutable"


def _plain_hint(hint) -> bool:
    """int/float/str/bool, None, tuples and mappings of those, unions of those, or a dataclass."""
    if hint in (int, float, str, bool, type(None), typing.Any) or dataclasses.is_dataclass(hint):
        return True
    origin = typing.get_origin(hint)
    if origin in (tuple, types.UnionType, typing.Union, collections.abc.Mapping):
        return all(_plain_hint(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)
    return False


def test_dataclass_field_types_are_plain():
    for cls in cfg.SECTIONS.values():
        for name, hint in typing.get_type_hints(cls).items():
            assert _plain_hint(hint), f"{cls.__name__}.{name}: {hint}"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets_are_valid(preset):
    if not preset.exists():
        pytest.skip(f"{preset.name} not written yet")
    config = cfg.load_config(preset)
    for name in cfg.SECTIONS:
        cfg.load_section(name, params=cfg.job_section(config, name))


# --------------------------------------------------------------------------------------------------
# errors name the key, the value and what was expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"representation": {"epochz": 3}}, ["representation.epochz", "did you mean 'epochs'"]),
        ({"represntation": {}}, ["represntation", "did you mean 'representation'"]),
        ({"representation": {"epochs": "ten"}}, ["representation.epochs", "'ten'", "integer"]),
        ({"representation": {"epochs": 0}}, ["representation.epochs", "0", ">= 1"]),
        ({"representation": {"batch_size": 2}}, ["representation.batch_size", ">= 3"]),
        (
            {"representation": {"bn_mode": "batchstats"}},
            ["representation.bn_mode", "'batch_stats'"],
        ),
        ({"representation": {"models": ["btcvae", "gan"]}}, ["representation.models.1", "'gan'"]),
        ({"representation": {"dropout_rate": 1.0}}, ["representation.dropout_rate", "< 1"]),
        (
            {"representation": {"by_dataset": {"x": {"beta": -1}}}},
            ["representation.by_dataset.x.beta", ">= 0"],
        ),
        (
            {"representation": {"by_dataset": {"x": {"betta": 1}}}},
            ["representation.by_dataset.x.betta", "did you mean 'beta'"],
        ),
        ({"generator": {"learning_rate": 0}}, ["generator.learning_rate", "> 0"]),
        ({"generator": {"codes": []}}, ["generator.codes", "non-empty"]),
        ({"seeds": [0, 0]}, ["seeds", "non-unique"]),
        ({"seeds": [-1]}, ["seeds.0", ">= 0"]),
    ],
)
def test_bad_values_fail_naming_key_value_and_expectation(config, expected):
    with pytest.raises(cfg.ConfigError) as info:
        cfg.validate(config, cfg.load_schema(), source="test.yaml")
    message = str(info.value)
    assert "test.yaml" in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_all_problems_are_reported_at_once():
    bad = {"representation": {"epochs": 0, "latent_dim": "x"}, "generator": {"n_critic": 0}}
    with pytest.raises(cfg.ConfigError) as info:
        cfg.validate(bad, cfg.load_schema(), source="x")
    assert str(info.value).count("\n  - ") == 3


def test_missing_config_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        cfg.load_config(missing)


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("representation: {epochs: [\n")
    with pytest.raises(cfg.ConfigError, match=r"broken\.yaml"):
        cfg.load_config(path)


def test_yaml_that_is_not_a_mapping_is_rejected(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(cfg.ConfigError, match=r"list\.yaml.*mapping"):
        cfg.load_config(path)


# --------------------------------------------------------------------------------------------------
# defaults, merging and job sections


def test_defaults_fill_nested_sections_without_touching_given_values():
    filled = cfg.validate({"representation": {"epochs": 7}}, cfg.load_schema(), source="x")
    assert filled["representation"]["epochs"] == 7
    assert filled["representation"]["latent_dim"] == 10
    assert filled["generator"]["n_critic"] == 5
    assert filled["seeds"] == [0]


def test_later_config_files_override_earlier_ones_recursively(tmp_path):
    base = tmp_path / "base.yaml"
    override = tmp_path / "override.yaml"
    base.write_text(yaml.safe_dump({"representation": {"epochs": 3, "latent_dim": 4}}))
    override.write_text(yaml.safe_dump({"representation": {"epochs": 5}}))
    merged = cfg.load_config(base, override)
    assert merged["representation"]["epochs"] == 5
    assert merged["representation"]["latent_dim"] == 4


def test_job_section_drops_job_selectors_and_resolves_dataset_overrides():
    config = cfg.validate(
        {"representation": {"beta": 100, "by_dataset": {"simulated/linear": {"beta": 10}}}},
        cfg.load_schema(),
        source="x",
    )
    linear = cfg.job_section(config, "representation", dataset="simulated/linear")
    other = cfg.job_section(config, "representation", dataset="tabula_muris/heart")
    assert "models" not in linear
    assert "by_dataset" not in linear
    assert linear["beta"] == 10
    assert other["beta"] == 100
    assert linear["epochs"] == other["epochs"] == 1000  # the override is partial
    # the job's section is itself a valid section
    assert cfg.load_section("representation", params=linear).beta == 10


def test_dump_params_is_stable_under_key_order():
    assert cfg.dump_params({"b": 1, "a": [1, 2]}) == cfg.dump_params({"a": [1, 2], "b": 1})


def test_frozen_mapping_is_hashable_and_compares_like_a_dict():
    a = cfg.FrozenMapping({"x": 1, "y": 2})
    b = cfg.FrozenMapping({"y": 2, "x": 1})
    assert a == b == {"x": 1, "y": 2}
    assert hash(a) == hash(b)
    assert {a: "ok"}[b] == "ok"


@pytest.mark.parametrize(
    ("section", "library_cls"),
    [
        ("preprocess", "michigan.data.preprocess.PreprocessParams"),
        ("sciplex", "michigan.data.sciplex.SciPlexSelection"),
    ],
)
def test_schema_defaults_equal_the_library_defaults(section, library_cls):
    module, name = library_cls.rsplit(".", 1)
    cls = getattr(__import__(module, fromlist=[name]), name)
    from_schema = cfg.library_params(cls, cfg.load_section(section, params={}))
    assert from_schema == cls()


def test_h5ad_entries_become_typed_dataclasses():
    section = cfg.load_section(
        "h5ad", params={"datasets": {"pbmc": {"path": "x.h5ad", "factor_keys": ["batch"]}}}
    )
    entry = section.datasets["pbmc"]
    assert isinstance(entry, cfg.H5adDataset)
    assert entry.factor_keys == ("batch",)
    assert entry.min_cells_per_group == 10


def test_h5ad_entry_without_path_is_rejected():
    with pytest.raises(cfg.ConfigError, match=r"h5ad\.datasets\.pbmc.*'path' is a required"):
        cfg.load_section("h5ad", params={"datasets": {"pbmc": {"counts_layer": "counts"}}})


@pytest.mark.parametrize(
    ("section", "params_cls", "extra"),
    [
        ("simulation", "SplatParams", {"backend", "variants", "by_dataset"}),
        ("screen", "ScreenParams", set()),
    ],
)
def test_simulation_sections_follow_the_simulator_parameters(section, params_cls, extra):
    """The schema entries are the simulator's own parameter specs (names, types, ranges, defaults)."""
    from michigan.simulate import json_schema_properties, params, screen

    cls = getattr(params, params_cls, None) or getattr(screen, params_cls)
    expected = json_schema_properties(cls)
    properties = cfg.section_schema(section)["properties"]
    assert set(properties) - extra == set(expected)
    for name, spec in expected.items():
        given = {
            k: v for k, v in properties[name].items() if not (name == "seed" and k == "default")
        }
        assert given == spec, name
    defaults = cfg.load_section(section, params={})
    built = cfg.library_params(cls, defaults)
    assert built.seed == 1


def _leaf_paths(mapping, prefix=()):
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            yield from _leaf_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


@pytest.mark.parametrize("preset", ["paper.yaml", "reproduce.yaml"])
def test_a_larger_preset_sets_every_key_the_quick_preset_sets(preset):
    """`--configfile config/<preset>` is merged over config.yaml: no quick value may leak through."""
    quick = cfg.read_yaml(REPO / "config.yaml")
    larger = cfg.read_yaml(REPO / "config" / preset)
    missing = [
        ".".join(path) for path in _leaf_paths(quick) if path not in set(_leaf_paths(larger))
    ]
    assert not missing, f"config/{preset} does not set {missing}"


# --------------------------------------------------------------------------------------------------
# cross-key checks (issue 12, item 6); the failing cases are in tests/bad_inputs/test_bad_config.py


def test_presets_pass_the_cross_key_checks():
    for preset in PRESETS:
        check_workflow_config(cfg.load_config(preset), source=str(preset))


def test_infinity_is_accepted_only_where_the_schema_allows_it():
    filled = cfg.validate({"simulation": {"bcv_df": float("inf")}}, cfg.load_schema(), source="x")
    assert filled["simulation"]["bcv_df"] == float("inf")
    with pytest.raises(cfg.ConfigError, match=r"simulation\.bcv_df': nan is not a finite number"):
        cfg.validate({"simulation": {"bcv_df": float("nan")}}, cfg.load_schema(), source="x")


def test_the_default_critic_ends_in_the_code_dimension():
    from michigan.train.generator import generator_task

    section = cfg.load_section("generator", params={})
    assert section.critic_hidden is None
    task = generator_task(section, model="michigan", n_genes=20, condition_dim=4)
    assert task.critic_hidden == (1024, 512, 4)
    wgan = generator_task(section, model="wgan_gp", n_genes=20)
    assert wgan.critic_hidden == (1024, 512, section.wgan_noise_dim)


def test_a_matching_hand_set_critic_passes():
    config = cfg.validate(
        {
            "generator": {"models": ["michigan"], "critic_hidden": [16, 4]},
            "representation": {"latent_dim": 4},
        },
        cfg.load_schema(),
        source="x",
    )
    check_workflow_config(config, source="x")


def test_a_by_dataset_value_hiding_a_later_files_value_is_noted():
    preset = {"representation": {"beta": 100, "by_dataset": {"simulated/linear": {"beta": 10}}}}
    user = {"representation": {"beta": 50}}
    (note,) = override_notes([("paper.yaml", preset), ("user.yaml", user)])
    assert "representation.by_dataset.simulated/linear.beta = 10 (from paper.yaml)" in note
    assert "representation.beta = 50 (from user.yaml)" in note


def test_no_note_when_the_same_file_sets_both_or_the_user_overrides_the_dataset_too():
    preset = {"representation": {"beta": 100, "by_dataset": {"screen": {"beta": 10}}}}
    assert override_notes([("paper.yaml", preset)]) == []
    user = {"representation": {"beta": 50, "by_dataset": {"screen": {"beta": 5}}}}
    assert override_notes([("paper.yaml", preset), ("user.yaml", user)]) == []


def test_a_stage_with_config_takes_the_dataset_of_its_input_path(tmp_path, caplog):
    from michigan.cli import _config_dataset, build_parser

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"representation": {"by_dataset": {"screen": {"beta": 3}}}}))
    config = cfg.load_config(path)
    argv = ["train-representation", "--config", str(path), "--seed", "0", "--model", "vae"]
    inferred = build_parser().parse_args(
        [*argv, "--input", "results/screen/preprocessed.h5ad", "--output", "m"]
    )
    assert _config_dataset(inferred, config, "representation") == "screen"
    with caplog.at_level("WARNING", logger="michigan"):
        elsewhere = build_parser().parse_args([*argv, "--input", "cells.h5ad", "--output", "m"])
        assert _config_dataset(elsewhere, config, "representation") is None
    assert "without its by_dataset overrides (set for screen)" in caplog.text
