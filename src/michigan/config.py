"""The configuration contract: one JSON Schema, validated up front, turned into frozen dataclasses.

The schema (``config.schema.yaml``, package data) gives every key its type, range, default and
description, with ``additionalProperties: false`` so that typos fail. The Snakefile validates the whole
configuration with it; each CLI stage validates its own section with the same schema. Inside the code
every section is a frozen, hashable dataclass whose fields match the schema's properties one to one.

Two conventions drive what a Snakemake job sees of its section (:func:`job_section`):

``x-selects-jobs: true`` (a schema annotation)
    The key only decides *which* jobs exist (e.g. ``models: [vae, btcvae]``); it is left out of a
    job's parameters, so adding a model does not rerun the models already trained.
``by_dataset`` (a key of a section)
    Partial sections per dataset, merged over the section for that dataset's jobs, e.g.
    ``representation: {beta: 100, by_dataset: {simulated/linear: {beta: 10}}}``. A job sees only
    its resolved section, so changing one dataset's override reruns only that dataset's jobs.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import json
import math
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from michigan import catalogue

SCHEMA_RESOURCE = "config.schema.yaml"
BY_DATASET = "by_dataset"


class ConfigError(ValueError):
    """A configuration value, key or file is invalid; the message names it and what was expected."""


# --------------------------------------------------------------------------------------------------
# schema


@functools.cache
def load_schema() -> dict[str, Any]:
    """Return the configuration JSON Schema shipped with the package.

    The ``by_dataset`` overrides of each section are checked against the section's own properties
    (without defaults, so that an override stays partial).
    """
    text = resources.files("michigan").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema = _catalogue_enums(yaml.safe_load(text))
    for section in schema["properties"].values():
        properties = section.get("properties", {})
        if BY_DATASET in properties:
            override = {k: _without_defaults(v) for k, v in properties.items() if k != BY_DATASET}
            properties[BY_DATASET]["additionalProperties"] = {
                "type": "object",
                "additionalProperties": False,
                "properties": override,
            }
    return schema


def _catalogue_enums(schema: Any) -> Any:
    """Fill in ``enum`` wherever the schema says ``x-catalogue: <list>``.

    Model, code mode and experiment names come from :mod:`michigan.catalogue`.
    """
    names = {
        "representation": catalogue.models("representation"),
        "generator": catalogue.models("generator"),
        "code_modes": catalogue.CODE_MODES,
        "experiments": tuple(catalogue.EXPERIMENTS),
    }
    if isinstance(schema, dict):
        filled = {k: _catalogue_enums(v) for k, v in schema.items()}
        if "x-catalogue" in schema:
            filled["enum"] = list(names[schema["x-catalogue"]])
        return filled
    if isinstance(schema, list):
        return [_catalogue_enums(v) for v in schema]
    return schema


def _without_defaults(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_defaults(v) for k, v in schema.items() if k != "default"}
    if isinstance(schema, list):
        return [_without_defaults(v) for v in schema]
    return schema


def schema_path() -> Path:
    """Path of the schema file inside the installed package (for ``snakemake.utils.validate``)."""
    return Path(str(resources.files("michigan").joinpath(SCHEMA_RESOURCE)))


def section_schema(name: str) -> dict[str, Any]:
    """Return the sub-schema of the top-level section ``name``."""
    properties = load_schema()["properties"]
    if name not in properties:
        msg = f"unknown config section {name!r}; sections are {sorted(properties)}"
        raise KeyError(msg)
    return properties[name]


def _default_filling_validator() -> type[jsonschema.protocols.Validator]:
    """Draft 2020-12 validator that also writes schema defaults into the instance.

    It refuses NaN everywhere, and infinities unless the key's schema has ``x-allow-infinite``.
    """
    base = jsonschema.Draft202012Validator
    validate_properties = base.VALIDATORS["properties"]
    validate_type = base.VALIDATORS["type"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, subschema in properties.items():
                if "default" in subschema and key not in instance:
                    instance[key] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    def finite_type(validator, types, instance, schema):
        yield from validate_type(validator, types, instance, schema)
        if not isinstance(instance, float) or math.isfinite(instance):
            return
        if math.isnan(instance) or not schema.get("x-allow-infinite"):
            yield jsonschema.ValidationError(f"{instance!r} is not a finite number")

    return jsonschema.validators.extend(base, {"properties": set_defaults, "type": finite_type})


def validate(
    instance: Mapping[str, Any], schema: Mapping[str, Any], *, source: str, prefix: str = ""
) -> dict[str, Any]:
    """Validate ``instance`` against ``schema`` and return a copy with the defaults filled in.

    Raises
    ------
    ConfigError
        Listing every problem found, each naming the key, the value and what was expected.
    """
    filled = copy.deepcopy(dict(instance))
    validator = _default_filling_validator()(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [_describe(error, prefix) for error in errors]
        msg = f"invalid configuration in {source}:\n" + "\n".join(f"  - {line}" for line in lines)
        raise ConfigError(msg)
    return filled


def _describe(error: jsonschema.ValidationError, prefix: str) -> str:
    """One readable line for a schema violation: key, value, expectation, description."""
    path = ".".join(
        [prefix, *map(str, error.absolute_path)] if prefix else map(str, error.absolute_path)
    )
    key = f"key {path!r}" if path else "the configuration"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"unknown key {'.'.join(filter(None, [path, name]))!r}"
            hints.append(f"{hint} (did you mean {close[0]!r}?)" if close else hint)
        return "; ".join(hints) + f"; allowed keys here: {', '.join(allowed)}"
    expected = _expectation(error.schema)
    described = error.schema.get("description")
    line = f"{key}: {error.message}"
    if expected:
        line += f"; expected {expected}"
    if described:
        line += f" ({described})"
    return line


def _expectation(schema: Mapping[str, Any]) -> str:
    """Summarise type, enum and range of a sub-schema, e.g. ``integer >= 1``."""
    parts: list[str] = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(repr, schema["enum"])))
    elif "type" in schema:
        kind = schema["type"]
        parts.append(" or ".join(kind) if isinstance(kind, list) else kind)
    for word, symbol in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if word in schema:
            parts.append(f"{symbol} {schema[word]}")
    items = schema.get("items")
    if isinstance(items, Mapping) and (inner := _expectation(items)):
        parts.append(f"of {inner}")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------
# loading


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors naming the file."""
    path = Path(path)
    if not path.is_file():
        msg = f"configuration file not found: {path}"
        raise FileNotFoundError(msg)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        msg = f"configuration file {path} is not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"configuration file {path} must hold a mapping at the top, not {type(data).__name__}"
        raise ConfigError(msg)
    return data


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base`` recursively (as Snakemake merges ``--configfile``)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(*paths: str | Path) -> dict[str, Any]:
    """Read, merge (later files win) and validate configuration files; return the filled mapping."""
    if not paths:
        msg = "load_config needs at least one configuration file"
        raise ValueError(msg)
    merged: dict[str, Any] = {}
    for path in paths:
        merged = merge(merged, read_yaml(path))
    source = ", ".join(map(str, paths))
    filled = validate(merged, load_schema(), source=source)
    from michigan.config_checks import check_workflow_config  # it imports this module

    check_workflow_config(filled, source=source)
    return filled


def job_section(
    config: Mapping[str, Any], name: str, *, dataset: str | None = None
) -> dict[str, Any]:
    """The part of section ``name`` that one job depends on (see the module docstring).

    Keys marked ``x-selects-jobs`` are dropped and the section's ``by_dataset`` entry for
    ``dataset`` is merged in, so a job's Snakemake ``params`` change only when something it uses
    changes.
    """
    schema = section_schema(name)["properties"]
    section = {k: v for k, v in config[name].items() if not schema.get(k, {}).get("x-selects-jobs")}
    overrides = section.pop(BY_DATASET, {})
    if dataset is not None and dataset in overrides:
        section = merge(section, overrides[dataset])
    return section


def dump_params(section: Mapping[str, Any]) -> str:
    """Compact, key-sorted JSON of a section: stable text for Snakemake's params change detection."""
    return json.dumps(section, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------
# typed sections


class FrozenMapping(Mapping[str, Any]):
    """An immutable, hashable mapping (for free-form config maps inside frozen dataclasses)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] = types.MappingProxyType({})) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"


def from_mapping(cls: type[Any], mapping: Mapping[str, Any]) -> Any:
    """Build the frozen dataclass ``cls`` from a validated mapping (lists become tuples)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(mapping) - fields
    missing = fields - set(mapping)
    if unknown or missing:
        msg = f"{cls.__name__}: unknown fields {sorted(unknown)}, missing fields {sorted(missing)}"
        raise ConfigError(msg)
    return cls(**{name: _convert(hints[name], mapping[name]) for name in fields})


def _convert(hint: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return from_mapping(hint, value)
    if isinstance(value, Mapping):
        value_hint = typing.get_args(hint)[1] if len(typing.get_args(hint)) == 2 else Any
        return FrozenMapping({k: _convert(value_hint, v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_convert(Any, v) for v in value)
    return value


def as_dict(section: Any) -> dict[str, Any]:
    """Plain-JSON view of a section dataclass (tuples become lists, mappings dicts)."""
    return _plain(dataclasses.asdict(section))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def load_section(
    name: str,
    *,
    params: Mapping[str, Any] | None = None,
    config_files: Sequence[str | Path] = (),
    dataset: str | None = None,
) -> Any:
    """Validate and type one section, from a job's params or from whole configuration files.

    Exactly one of ``params`` (the section as a mapping, e.g. decoded from a rule's JSON param) and
    ``config_files`` must be given.
    """
    if (params is None) == (not config_files):
        msg = "give either params or config_files, not both or neither"
        raise ValueError(msg)
    if params is None:
        params = job_section(load_config(*config_files), name, dataset=dataset)
        source = f"section {name!r} of {', '.join(map(str, config_files))}"
    else:
        source = f"parameters of section {name!r}"
    filled = validate(params, section_schema(name), source=source, prefix=name)
    return from_mapping(SECTIONS[name], filled)


# The section dataclasses. They declare no defaults: the schema is the single home of defaults,
# and tests/unit/test_config.py checks that fields and schema properties match one to one.


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """What every trained model's section has: optimiser, regularisation, sampler, checkpoints."""

    models: tuple[str, ...]
    epochs: int
    batch_size: int
    learning_rate: float
    adam_b1: float
    adam_b2: float
    dropout_rate: float
    dropout_active: bool
    bn_mode: str
    sampler: str
    checkpoint_every: int
    snapshot_every: int
    validation_fraction: float
    early_stopping_patience: int
    early_stopping_min_delta: float
    by_dataset: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class RepresentationConfig(TrainingConfig):
    """Representation models (PPCA, VAE, beta-TCVAE): architecture, loss and training."""

    latent_dim: int
    encoder_hidden: tuple[int, ...]
    decoder_hidden: tuple[int, ...]
    beta: float
    kl_weight: float
    ppca_posterior: str


@dataclasses.dataclass(frozen=True)
class GeneratorConfig(TrainingConfig):
    """Generators on the codes (WGAN-GP, InfoWGAN-GP, CWGAN-GP, MichiGAN): architecture and training."""

    codes: tuple[str, ...]
    representation: str
    noise_dim: int
    wgan_noise_dim: int
    info_code_dim: int
    generator_hidden: tuple[int, ...]
    critic_hidden: tuple[int, ...] | None
    n_critic: int
    gp_weight: float
    gp_eps: str
    mi_weight: float
    critic_bn_mode: str


@dataclasses.dataclass(frozen=True)
class DownloadsConfig:
    """How raw public data is fetched into ``resources/``."""

    offline: bool
    retries: int
    timeout_s: float
    backoff_s: float


@dataclasses.dataclass(frozen=True)
class TabulaMurisConfig:
    """Tabula Muris FACS: local copies of the raw files (or None to download) and cell filters."""

    counts: str | None
    annotations: str | None
    min_cells_per_type: int
    heart_tissue: str


@dataclasses.dataclass(frozen=True)
class SciPlexConfig:
    """sci-Plex 3: local copies of the raw files (or None to download) and the paper's subset."""

    matrix: str | None
    genes: str | None
    cells: str | None
    pdata: str | None
    cell_types: tuple[str, ...]
    drugs: tuple[str, ...]
    keep_vehicle: bool
    time_points: tuple[int, ...]
    hash_qc: bool
    min_hash_umis: float
    min_hash_ratio: float
    gene_id_prefix: str
    chunk_lines: int


@dataclasses.dataclass(frozen=True)
class H5adDataset:
    """One user AnnData file and the obs keys that describe its cells."""

    path: str
    counts_layer: str | None
    factor_keys: tuple[str, ...]
    cell_type_key: str | None
    drug_key: str | None
    min_cells_per_group: int
    normalised: bool


@dataclasses.dataclass(frozen=True)
class H5adConfig:
    """Users' own AnnData files, by dataset name."""

    datasets: Mapping[str, H5adDataset]


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """The shared scanpy recipe (see :class:`michigan.data.preprocess.PreprocessParams`)."""

    min_genes: int
    min_cells: int
    target_sum: float
    hvg_min_mean: float
    hvg_max_mean: float
    hvg_min_disp: float
    n_top_genes: int | None
    scale: bool
    scale_max_value: float | None
    by_dataset: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Parameters of the metrics (see docs/metrics.md)."""

    mig_max_cells: int
    mig_float64: bool
    n_bins: int
    factor_vae_batch_size: int
    factor_vae_n_train: int
    factor_vae_n_eval: int
    factor_vae_n_var: int
    factor_vae_prune: float
    michigan_code_factor_vae: bool
    knn_k: int
    n_pcs: int
    n_cells: int
    rf_trees: int
    rf_folds: int
    rf_original_pca: bool
    is_splits: int


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """Splat paths simulations (Splatter's parameters in snake_case) and the backend that runs them."""

    backend: str
    variants: tuple[str, ...]
    seed: int
    n_genes: int
    mean_shape: float
    mean_rate: float
    lib_loc: float
    lib_scale: float
    lib_norm: bool
    out_prob: float
    out_fac_loc: float
    out_fac_scale: float
    bcv_common: float
    bcv_df: float
    batch_cells: tuple[int, ...]
    batch_fac_loc: float | tuple[float, ...]
    batch_fac_scale: float | tuple[float, ...]
    batch_rm_effect: bool
    group_prob: tuple[float, ...]
    de_prob: float | tuple[float, ...]
    de_down_prob: float | tuple[float, ...]
    de_fac_loc: float | tuple[float, ...]
    de_fac_scale: float | tuple[float, ...]
    dropout_type: str
    dropout_mid: tuple[float, ...]
    dropout_shape: tuple[float, ...]
    path_from: int | tuple[int, ...]
    path_n_steps: int | tuple[int, ...]
    path_skew: float | tuple[float, ...]
    path_nonlinear_prob: float
    path_sigma_fac: float
    by_dataset: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class ScreenConfig:
    """The simulated perturbation screen (see :class:`michigan.simulate.screen.ScreenParams`)."""

    seed: int
    n_genes: int
    mean_shape: float
    mean_rate: float
    lib_loc: float
    lib_scale: float
    lib_norm: bool
    out_prob: float
    out_fac_loc: float
    out_fac_scale: float
    bcv_common: float
    bcv_df: float
    n_cell_types: int
    n_drugs: int
    cells_per_condition: int
    cell_type_fac_loc: float
    cell_type_fac_scale: float
    drug_de_prob: float
    drug_de_down_prob: float
    drug_de_fac_loc: float
    drug_de_fac_scale: float
    interactions: tuple[str, ...]
    interaction_de_prob: float
    interaction_de_down_prob: float
    interaction_fac_loc: float
    interaction_fac_scale: float


@dataclasses.dataclass(frozen=True)
class PredictionConfig:
    """Held-out combination prediction and the low-Delta H retrain (see docs/prediction.md)."""

    heldout: tuple[tuple[str, str], ...]
    all_combinations: bool
    max_cells: int | None
    delta_h_cells: int
    n_de_genes: int
    lowdh_k: int
    lowdh_codes: str
    lowdh_estimator: str
    lowdh: bool
    by_dataset: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class FiguresConfig:
    """The paper's figures and the latent traversals (see docs/figures.md)."""

    umap_n_pcs: int
    umap_n_neighbors: int
    umap_min_dist: float
    umap_random_state: int
    dpi: int
    mi_convention: str
    mi_max_cells: int
    traversal_population: Mapping[str, Any]
    traversal_max_cells: int
    traversal_quantiles: tuple[float, ...]
    traversal_steps: int
    traversal_dims: tuple[int, ...] | None
    traversal_top_genes: int
    traversal_wgan_candidates: int
    traversal_wgan_noise_dims: tuple[int, ...]
    traversal_decoder_noise: bool
    by_dataset: Mapping[str, Any]


SECTIONS: dict[str, type[Any]] = {
    "representation": RepresentationConfig,
    "generator": GeneratorConfig,
    "downloads": DownloadsConfig,
    "tabula_muris": TabulaMurisConfig,
    "sciplex": SciPlexConfig,
    "h5ad": H5adConfig,
    "preprocess": PreprocessConfig,
    "evaluation": EvaluationConfig,
    "simulation": SimulationConfig,
    "screen": ScreenConfig,
    "prediction": PredictionConfig,
    "figures": FiguresConfig,
}


def library_params(cls: type[Any], section: Any) -> Any:
    """Build the library's parameter dataclass ``cls`` from the same-named fields of ``section``."""
    names = [f.name for f in dataclasses.fields(cls)]
    return cls(**{name: getattr(section, name) for name in names})
