"""The catalogue: every model, dataset, raw-file source and experiment the pipeline knows.

Their properties decide which jobs exist. The schema's enums, the CLI's choices, the training
registry, the Snakemake wildcard constraints and targets, the downloads, the report and the
contract tests read these tables; ``tests/unit/test_catalogue.py`` checks that the schema agrees
with them. ``docs/extending.md`` says which files a new model or dataset touches.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from michigan import keys
from michigan.data.sources import RemoteFile, figshare_file, geo_supplementary_file

ModelKind = Literal["representation", "generator"]
TraversalRole = Literal["conditional", "unconditional"]
ExperimentKind = Literal["disentanglement", "generation", "heldout", "user"]

#: how a conditional generator takes its codes: posterior means, or a posterior sample per minibatch
CODE_MODES: tuple[str, ...] = ("mean", "sampled")
#: the training sets of a run: all cells, or a held-out split's training cells
TRAINSETS: tuple[str, ...] = ("all", "heldout", "lowdh")
#: the dataset name of a user's ``h5ad.datasets.<name>``
USER_PREFIX = "h5ad/"
#: a user dataset's name (the schema's ``propertyNames`` pattern without anchors)
USER_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"


@dataclasses.dataclass(frozen=True)
class Model:
    """One model.

    Attributes
    ----------
    name
        Config name (``representation.models`` / ``generator.models``).
    kind
        ``"representation"`` (encodes cells into codes) or ``"generator"`` (makes cells).
    summary
        One line for logs and docs.
    conditional
        A generator trained on, and generating from, a representation's codes; it is run once per
        code mode (``michigan_mean``, ``michigan_sampled``).
    generates
        Makes cells whose generation metrics are reported (Table 2): PPCA does not.
    iterative
        Trained by epochs (every model but the closed-form PPCA).
    traversal
        Its role in the latent traversals: the conditional generator traversed along the codes, the
        unconditional baseline searched for matching cells, or none.
    """

    name: str
    kind: ModelKind
    summary: str
    conditional: bool = False
    generates: bool = True
    iterative: bool = True
    traversal: TraversalRole | None = None

    def runs(self, codes: Sequence[str]) -> list[str]:
        """Run names of this model: one per code mode in ``codes`` if conditional, else its name."""
        if self.conditional:
            return [f"{self.name}_{mode}" for mode in codes]
        return [self.name]


MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Model("ppca", "representation", "probabilistic PCA in closed form", generates=False,
              iterative=False),
        Model("vae", "representation", "Gaussian VAE, MC-KL + unit-variance reconstruction"),
        Model("btcvae", "representation",
              "beta-TCVAE: VAE loss + beta * TC (minibatch-stratified)"),
        Model("wgan_gp", "generator", "WGAN-GP from noise", traversal="unconditional"),
        Model("infowgan_gp", "generator",
              "InfoWGAN-GP: Q head on the critic features, lambda_MI * MI"),
        Model("cwgan_gp", "generator",
              "conditional WGAN-GP, code concatenated to the critic input", conditional=True),
        Model("michigan", "generator", "MichiGAN: projection critic w.h + b + <y, h>",
              conditional=True, traversal="conditional"),
    )
}  # fmt: skip


def models(kind: ModelKind) -> tuple[str, ...]:
    """Names of the models of ``kind``, in catalogue order."""
    return tuple(name for name, model in MODELS.items() if model.kind == kind)


def generator_runs(names: Sequence[str], codes: Sequence[str]) -> list[str]:
    """Run names of the generators ``names`` (conditional ones once per code mode in ``codes``)."""
    return [run for name in names for run in MODELS[name].runs(codes)]


def run_model(run: str) -> Model:
    """The model of a run name (``michigan_sampled`` -> MichiGAN)."""
    if run in MODELS:
        return MODELS[run]
    name, _, mode = run.rpartition("_")
    if name in MODELS and MODELS[name].conditional and mode in CODE_MODES:
        return MODELS[name]
    msg = f"unknown model run {run!r}; models are {sorted(MODELS)}"
    raise KeyError(msg)


def run_pattern(kind: ModelKind | None = None) -> str:
    """Wildcard regex of the run names of ``kind`` (all runs when None)."""
    kinds = ("representation", "generator") if kind is None else (kind,)
    runs = [r for k in kinds for r in generator_runs(models(k), CODE_MODES)]
    return "|".join(runs)


@dataclasses.dataclass(frozen=True)
class Source:
    """The raw files of one public data set, downloaded into ``resources/<name>/``.

    Attributes
    ----------
    name
        Its folder under ``resources/``, also ``michigan download --source``.
    files
        Each file by role, the builder's argument names (``counts``, ``matrix``, ...).
    section
        The config section (its builder's) whose keys, named by role, may give local copies;
        ``None``: no local copies, the files are always downloaded.
    """

    name: str
    files: Mapping[str, RemoteFile]
    section: str | None = None


# Tabula Muris FACS (Smart-seq2), figshare article 5829687 version 2
_TABULA_MURIS_FACS = functools.partial(figshare_file, article_id=5829687, version=2)
# sci-Plex 3, GEO sample GSM4150378 of series GSE139944
_SCIPLEX3 = functools.partial(
    geo_supplementary_file, "GSM4150378", recorded_by="a third-party sci-Plex audit"
)

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source("tabula_muris", section="tabula_muris", files={
            "counts": _TABULA_MURIS_FACS("FACS.zip", file_id=10700143,
                                         content="20 FACS/<Tissue>-counts.csv"),
            "annotations": _TABULA_MURIS_FACS("annotations_FACS.csv", file_id=13088129,
                                              content="44,949 annotated cells"),
        }),
        Source("sciplex3", section="sciplex", files={
            "matrix": _SCIPLEX3(
                "sciPlex3_A549_MCF7_K562_screen_UMI.count.matrix.gz", size=3_096_224_606,
                sha256="7d632716aa6ed0fc1780996003d0abc440ff78340609bceaaa4c8ade9345d00a"),
            "genes": _SCIPLEX3("sciPlex3_A549_MCF7_K562_screen_gene.annotations.txt.gz",
                               size=806_168),
            "cells": _SCIPLEX3("sciPlex3_A549_MCF7_K562_screen_cell.annotations.txt.gz",
                               size=2_770_264),
            "pdata": _SCIPLEX3("sciPlex3_pData.txt.gz", size=84_673_357),
        }),
    )
}  # fmt: skip


def remote_file(source: str, role: str) -> RemoteFile:
    """The file of ``role`` (e.g. ``"matrix"``) in the source ``source`` (e.g. ``"sciplex3"``).

    Raises
    ------
    KeyError
        If the source or the role is unknown; the message lists the known ones.
    """
    if source not in SOURCES:
        msg = f"unknown source {source!r}; downloadable sources are {sorted(SOURCES)}"
        raise KeyError(msg)
    files = SOURCES[source].files
    if role not in files:
        msg = f"source {source!r} has no file role {role!r}; roles are {sorted(files)}"
        raise KeyError(msg)
    return files[role]


def raw_file_path(source: str, role: str, config: Mapping[str, Any]) -> str:
    """The path a raw file is read from: the user's local copy, else its download target.

    The local copy is the key ``role`` of the source's config section (none without a section); the
    download target is ``resources/<source>/<file name>``.
    """
    section = SOURCES[source].section
    local = config.get(section, {}).get(role) if section is not None else None
    return local or f"resources/{source}/{remote_file(source, role).name}"


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One dataset; its files live under ``results/<name>/``.

    Attributes
    ----------
    name
        Dataset name, also its results folder (``simulated/linear``, ``h5ad/<user name>``).
    summary
        One line for docs.
    factors
        obs columns of its ground-truth factors (disentanglement metrics, code x factor bars).
    labels
        obs column of its cell types (inception score), if it has them.
    sources
        Names of the :data:`SOURCES` whose files it is built from.
    traversal
        Whether the latent traversal figures are drawn for it (a population to traverse).
    own_counts
        Preprocessed from its own counts (the Tabula Muris heart is rows of the whole data).
    """

    name: str
    summary: str
    factors: tuple[str, ...] = ()
    labels: str | None = None
    sources: tuple[str, ...] = ()
    traversal: bool = True
    own_counts: bool = True


DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset("simulated/linear", "Splat paths simulation, linear paths",
                factors=keys.SIMULATION_FACTORS),
        Dataset("simulated/nonlinear", "Splat paths simulation, non-linear paths",
                factors=keys.SIMULATION_FACTORS),
        Dataset("screen", "simulated perturbation screen", labels=keys.CELL_TYPE),
        Dataset("tabula_muris/whole", "Tabula Muris FACS, all tissues", labels=keys.CELL_TYPE,
                sources=("tabula_muris",)),
        Dataset("tabula_muris/heart", "Tabula Muris FACS, heart", labels=keys.CELL_TYPE,
                own_counts=False),
        Dataset("sciplex", "sci-Plex 3 subset of the paper", labels=keys.CELL_TYPE,
                sources=("sciplex3",)),
    )
}  # fmt: skip


def user_dataset(name: str, entry: Mapping[str, Any]) -> Dataset:
    """The catalogue entry of a user's ``h5ad.datasets.<name>`` (``entry``: its config mapping).

    The import copies ``cell_type_key`` into ``obs["cell_type"]``; the factor columns keep their
    names.
    """
    return Dataset(
        f"{USER_PREFIX}{name}",
        f"user data {entry['path']}",
        factors=tuple(entry.get("factor_keys") or ()),
        labels=keys.CELL_TYPE if entry.get("cell_type_key") else None,
    )


def datasets(config: Mapping[str, Any]) -> dict[str, Dataset]:
    """Every dataset of ``config``: the catalogue's and the user's ``h5ad.datasets``."""
    user = config.get("h5ad", {}).get("datasets", {})
    return {**DATASETS, **{d.name: d for d in (user_dataset(n, e) for n, e in user.items())}}


def dataset_pattern(*, own_counts: bool = False) -> str:
    """Wildcard regex of every dataset name (only those preprocessed from their own counts)."""
    names = [re.escape(d.name) for d in DATASETS.values() if d.own_counts or not own_counts]
    return "|".join([*names, re.escape(USER_PREFIX) + USER_NAME])


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One value of ``experiments``: what ``snakemake`` builds (see :mod:`michigan.targets`).

    Attributes
    ----------
    name
        Config name.
    summary
        What it reproduces.
    kind
        What it builds (:func:`michigan.targets.final_targets`): the disentanglement tables on the
        simulations, the generation table, the held-out prediction on each of its datasets, or
        everything on the user's datasets.
    datasets
        Its fixed datasets (the user-data experiment takes every ``h5ad.datasets`` entry).
    """

    name: str
    summary: str
    kind: ExperimentKind
    datasets: tuple[str, ...] = ()


EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        Experiment("simulated_disentanglement",
                   "Tables 1 and 3 on the Splat simulations, their figures", "disentanglement",
                   ("simulated/linear", "simulated/nonlinear")),
        Experiment("screen_heldout", "held-out prediction on the simulated perturbation screen",
                   "heldout", ("screen",)),
        Experiment("tabula_muris_generation", "Table 2 and figures on Tabula Muris (downloads)",
                   "generation", ("tabula_muris/heart", "tabula_muris/whole")),
        Experiment("sciplex_heldout", "Fig. 4 on sci-Plex 3 (downloads 3 GB)", "heldout",
                   ("sciplex",)),
        Experiment("user_data",
                   "every h5ad.datasets entry: models, metrics, figures, held-out prediction",
                   "user"),
    )
}  # fmt: skip


def dataset_of_path(path: str | Path) -> str | None:
    """The dataset of a pipeline file ``.../results/<dataset>/...`` (None for other paths)."""
    pattern = rf"(?:^|/)results/({dataset_pattern()})/"
    match = re.search(pattern, Path(path).as_posix())
    return match.group(1) if match else None
