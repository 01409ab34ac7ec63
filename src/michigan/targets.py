"""What the pipeline builds for a configuration.

The files of each experiment, and the per-dataset facts the rules need (factor columns, cell-type
labels, the traversed generators). Everything here reads a schema-valid configuration with its defaults filled in and the
:mod:`michigan.catalogue`; ``workflow/rules/common.smk`` turns it into Snakemake targets and job
options. Paths follow the results layout ``results/<dataset>/<trainset>/seed<seed>/<run>/...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from michigan import catalogue
from michigan.config import BY_DATASET

Config = Mapping[str, Any]

#: figures of a run that every dataset gets, and the traversal figures
RUN_FIGURES = ("umap_codes",)
TRAVERSAL_FIGURES = ("traversal_umap", "traversal_genes")
#: files of one seed of a held-out experiment (paper Fig. 4a-c and the test statistics)
#: the report's front page fragment (workflow/report/workflow.rst includes it)
FRONT_PAGE = "results/report/front_page.rst"
HELDOUT_FILES = ("fig4a_rf_error.png", "fig4b_delta_h.png", "fig4c_lowdh.png", "statistics.tsv")
#: the held-out experiment's training sets after the full run
PREDICTION_TRAINSETS = ("heldout", "lowdh")


def dataset(config: Config, name: str) -> catalogue.Dataset:
    """The catalogue entry of ``name`` (a user's ``h5ad/<name>`` included).

    Raises
    ------
    KeyError
        Naming the dataset and the configured ones.
    """
    known = catalogue.datasets(config)
    if name not in known:
        msg = f"{name} is no dataset of the configuration (add it under h5ad.datasets); known: {sorted(known)}"
        raise KeyError(msg)
    return known[name]


def factor_columns(config: Config, name: str) -> list[str]:
    """The obs columns of the ground-truth factors of dataset ``name``.

    Raises
    ------
    ValueError
        If the dataset has none (the disentanglement metrics cannot be computed).
    """
    factors = list(dataset(config, name).factors)
    if not factors:
        msg = (
            f"dataset {name} has no ground-truth factors for the disentanglement metrics "
            "(set factor_keys of an h5ad dataset)"
        )
        raise ValueError(msg)
    return factors


def umap_colors(config: Config, name: str) -> list[str]:
    """The obs columns a user dataset's UMAP is coloured by: its factors and cell-type column.

    The catalogue's datasets are coloured by their known metadata columns (an empty list here).
    """
    if not name.startswith(catalogue.USER_PREFIX):
        return []
    entry = config["h5ad"]["datasets"][name.removeprefix(catalogue.USER_PREFIX)]
    columns = [*entry["factor_keys"], *[k for k in [entry["cell_type_key"]] if k]]
    return list(dict.fromkeys(columns))


def generator_runs(config: Config) -> list[str]:
    """Run names of the configured generators (conditional ones once per code mode)."""
    section = config["generator"]
    return catalogue.generator_runs(section["models"], section["codes"])


def representation_models(config: Config) -> list[str]:
    """The configured representation models."""
    return list(config["representation"]["models"])


def generating_runs(config: Config) -> list[str]:
    """Runs whose generated cells are scored (Table 2): the VAEs' reconstructions, the generators."""
    models = [m for m in representation_models(config) if catalogue.MODELS[m].generates]
    return models + generator_runs(config)


def traversal_runs(config: Config) -> tuple[list[str], list[str]]:
    """(conditional, unconditional) generator runs the latent traversals use."""
    runs = generator_runs(config)

    def role(name: str) -> list[str]:
        return [run for run in runs if catalogue.run_model(run).traversal == name]

    return role("conditional"), role("unconditional")


def generated_code_runs(config: Config) -> list[str]:
    """Generator runs that take a code (all but WGAN-GP): their cells are coloured by it."""
    return [run for run in generator_runs(config) if catalogue.run_model(run).name != "wgan_gp"]


def wide_wgan_runs(config: Config) -> list[str]:
    """The WGAN-GPs trained for the traversals only (``figures.traversal_wgan_noise_dims``)."""
    return [f"wgan_gp_noise{dim}" for dim in config["figures"]["traversal_wgan_noise_dims"]]


def simulated_datasets(config: Config) -> list[str]:
    """The configured Splat simulations."""
    return [f"simulated/{variant}" for variant in config["simulation"]["variants"]]


def user_datasets(config: Config) -> list[str]:
    """The dataset names of the user's ``h5ad.datasets``."""
    return [f"{catalogue.USER_PREFIX}{name}" for name in config["h5ad"]["datasets"]]


def model_files(
    config: Config, datasets: Sequence[str], runs: Sequence[str], name: str, trainset: str = "all"
) -> list[str]:
    """``name`` (e.g. ``disentanglement.json``) of every run, dataset and seed."""
    return [
        f"results/{dataset}/{trainset}/seed{seed}/{run}/{name}"
        for dataset in datasets
        for seed in config["seeds"]
        for run in runs
    ]


def disentanglement_metrics(config: Config, datasets: Sequence[str]) -> list[str]:
    """Tables 1 and 3: codes of the representation models, input codes of the generators."""
    runs = representation_models(config) + generator_runs(config)
    return model_files(config, datasets, runs, "disentanglement.json")


def generation_metrics(config: Config, datasets: Sequence[str]) -> list[str]:
    """Table 2: generated cells of the VAEs (noisy reconstructions) and the generators."""
    return model_files(config, datasets, generating_runs(config), "generation.json")


def training_curve_runs(config: Config) -> list[str]:
    """The runs with a training curve: the Table 2 models whose section keeps snapshots."""
    runs = []
    if config["representation"]["snapshot_every"]:
        runs += [
            m
            for m in representation_models(config)
            if catalogue.MODELS[m].generates and catalogue.MODELS[m].iterative
        ]
    if config["generator"]["snapshot_every"]:
        runs += generator_runs(config)
    return runs


def training_curves(config: Config, datasets: Sequence[str]) -> list[str]:
    """Figs S4 and S5c: the training curves of every run of a dataset and seed, overlaid.

    None where no run keeps snapshots; the per-run curves are the figure's inputs.
    """
    if not training_curve_runs(config):
        return []
    return [
        f"results/{name}/all/seed{seed}/figures/training_curves.png"
        for name in datasets
        for seed in config["seeds"]
    ]


def table_inputs(config: Config, table: str) -> list[str]:
    """The metrics files of a paper table."""
    if table == "table2":
        return generation_metrics(config, catalogue.EXPERIMENTS["tabula_muris_generation"].datasets)
    return disentanglement_metrics(config, simulated_datasets(config))


def figure_targets(config: Config, datasets: Sequence[str], trainset: str = "all") -> list[str]:
    """Every figure of ``datasets`` for every seed.

    The traversals where the catalogue draws them, the code x factor bars where the dataset has
    factors.
    """
    targets = [f"results/{name}/figures/umap_factors.png" for name in datasets]
    for name in datasets:
        entry = dataset(config, name)
        figures = [*RUN_FIGURES, *(TRAVERSAL_FIGURES if entry.traversal else ())]
        if entry.factors:
            figures.append("code_factor_bars")
        targets += [
            f"results/{name}/{trainset}/seed{seed}/figures/{figure}.png"
            for seed in config["seeds"]
            for figure in figures
        ]
    return targets


def heldout_targets(config: Config, name: str) -> list[str]:
    """Fig. 4a-c and test statistics of the held-out experiment on ``name``, and its verdicts.

    The figures and statistics for every seed; the verdicts of its tests over the seeds.
    """
    files = [f for f in HELDOUT_FILES if config["prediction"]["lowdh"] or "lowdh" not in f]
    return [
        f"results/{name}/prediction/seed{seed}/{file}" for seed in config["seeds"] for file in files
    ] + [f"results/{name}/prediction/verdicts.tsv"]


def prediction_trainsets(config: Config) -> tuple[str, ...]:
    """The held-out experiment's training sets: heldout, and lowdh unless ``prediction.lowdh`` is off."""
    return PREDICTION_TRAINSETS if config["prediction"]["lowdh"] else PREDICTION_TRAINSETS[:1]


def heldout_datasets(config: Config) -> list[str]:
    """Datasets of the configured held-out experiments (a user's, when it has one)."""
    names = []
    for experiment in (catalogue.EXPERIMENTS[name] for name in config["experiments"]):
        if experiment.kind == "heldout":
            names += experiment.datasets
        elif experiment.kind == "user":
            names += [n for n in user_datasets(config) if has_heldout_experiment(config, n)]
    return names


def orderings_inputs(config: Config) -> dict[str, list[str]]:
    """The comparison tables and held-out verdicts the orderings check reads."""
    kinds = {catalogue.EXPERIMENTS[name].kind for name in config["experiments"]}
    tables = []
    if "disentanglement" in kinds:
        tables += ["table1", "table3"]
    if "generation" in kinds:
        tables.append("table2")
    return {
        "tables": [f"results/tables/{table}.tsv" for table in tables],
        "verdicts": [f"results/{n}/prediction/verdicts.json" for n in heldout_datasets(config)],
    }


def has_heldout_experiment(config: Config, name: str) -> bool:
    """Whether a user dataset gets the held-out prediction.

    It does when it names its cell-type and drug columns and
    ``prediction.by_dataset.<dataset>.heldout`` gives its held-out pairs.
    """
    entry = config["h5ad"]["datasets"][name.removeprefix(catalogue.USER_PREFIX)]
    pairs = (config["prediction"].get(BY_DATASET) or {}).get(name, {}).get("heldout")
    return bool(entry["cell_type_key"] and entry["drug_key"] and pairs)


def user_data_targets(config: Config) -> list[str]:
    """The files of the ``user_data`` experiment.

    For every ``h5ad.datasets`` entry: the configured models' disentanglement metrics (with
    factors), generation metrics, figures and, with a cell type, a drug and held-out pairs, the
    held-out prediction.
    """
    targets = []
    for name in user_datasets(config):
        if dataset(config, name).factors:
            targets += disentanglement_metrics(config, [name])
        targets += generation_metrics(config, [name])
        targets += figure_targets(config, [name])
        if has_heldout_experiment(config, name):
            targets += heldout_targets(config, name)
    return targets


def final_targets(config: Config) -> list[str]:
    """Every output that ``rule all`` builds for the configured experiments."""
    targets: list[str] = []
    for experiment in (catalogue.EXPERIMENTS[name] for name in config["experiments"]):
        targets += _experiment_targets(config, experiment)
    inputs = orderings_inputs(config)
    if inputs["tables"] or inputs["verdicts"]:
        targets += ["results/tables/orderings.md", FRONT_PAGE]
    return targets


def generated_cell_figures(config: Config, datasets: Sequence[str]) -> list[str]:
    """Figures of generated cells and traversal populations of models trained on all cells.

    Figs 2b, 3c-d, 5, S3, S5-S9: the population of traversals per dataset, and per seed the
    generated codes (with their factor bars where the dataset has factors).
    """
    targets = []
    for name in datasets:
        targets.append(f"results/{name}/figures/traversal_population.png")
        for seed in config["seeds"]:
            figures = f"results/{name}/all/seed{seed}/figures"
            if generated_code_runs(config):
                targets.append(f"{figures}/generated_codes.png")
                if dataset(config, name).factors:
                    targets.append(f"{figures}/generated_code_factor_bars.png")
    return targets


def heldout_cell_figures(config: Config, datasets: Sequence[str]) -> list[str]:
    """Fig. S10a of each held-out run; for sci-Plex also the figures of its all-cells models.

    The traversals of Figs 3c-d, S8 and S9 need models trained on every sci-Plex cell.
    """
    targets = []
    if "sciplex" in datasets:
        targets += figure_targets(config, ["sciplex"]) + generated_cell_figures(config, ["sciplex"])
    return targets + [
        f"results/{name}/{trainset}/seed{seed}/figures/heldout_cells.png"
        for name in datasets
        for seed in config["seeds"]
        for trainset in prediction_trainsets(config)
    ]


def _experiment_targets(config: Config, experiment: catalogue.Experiment) -> list[str]:
    if experiment.kind == "disentanglement":
        tables = [f"results/tables/{name}.md" for name in ("table1", "table3")]
        names = simulated_datasets(config)
        return tables + figure_targets(config, names) + generated_cell_figures(config, names)
    if experiment.kind == "generation":
        return [
            "results/tables/table2.md",
            *training_curves(config, experiment.datasets),
            *figure_targets(config, experiment.datasets),
            *generated_cell_figures(config, experiment.datasets),
        ]
    if experiment.kind == "heldout":
        return [
            *(f for name in experiment.datasets for f in heldout_targets(config, name)),
            *heldout_cell_figures(config, experiment.datasets),
        ]
    return user_data_targets(config)


def statistics_labels(config: Config) -> list[str]:
    """Labels of the held-out experiment's summaries, ``<trainset>/<code mode>``."""
    return [
        f"{trainset}/{codes}"
        for trainset in prediction_trainsets(config)
        for codes in config["generator"]["codes"]
    ]
