# Helpers shared by the rules: config sections as job params, targets, wildcard constraints.
import sys
from pathlib import Path
from types import SimpleNamespace

from snakemake_interface_executor_plugins.settings import DeploymentMethod

SRC = Path(workflow.basedir) / "src"
# the package's own code, also when Snakemake runs outside its venv
sys.path.insert(0, str(SRC))

from michigan import config as michigan_config  # noqa: E402

try:
    michigan_config.validate(
        config, michigan_config.load_schema(), source="the workflow config"
    )
except michigan_config.ConfigError as error:
    raise WorkflowError(str(error)) from None


def heavy_threads():
    """Threads of the heavy jobs (training, random forests): half the cores, so that two run at
    once and one job's single-threaded phases (imports, compilation) overlap the other's number
    crunching. Runs without a local core count (--report, --lint, cluster executors) get 2.
    """
    try:
        return max(1, workflow.cores // 2)
    except WorkflowError:
        return 2


HEAVY_THREADS = heavy_threads()


# Rules call `python -m michigan <stage>`. With --sdm conda, python is the rule's conda env and the
# package comes from src/ through PYTHONPATH; otherwise python is the one running Snakemake.
# UMAP's numba functions are compiled once and cached for the later jobs.
SHELL_SETUP = (
    "set -euo pipefail; "
    'export NUMBA_CACHE_DIR="${{NUMBA_CACHE_DIR:-$PWD/.snakemake/numba-cache}}"; '
)
if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    shell.prefix(
        SHELL_SETUP + f'export PYTHONPATH="{SRC}${{PYTHONPATH:+:$PYTHONPATH}}"; '
    )
else:
    shell.prefix(SHELL_SETUP + f'export PATH="{Path(sys.executable).parent}:$PATH"; ')


def section_params(name, dataset=None):
    """The config section `name` as a job sees it (compact JSON; see michigan.config.job_section)."""
    return michigan_config.dump_params(
        michigan_config.job_section(config, name, dataset=dataset)
    )


# --------------------------------------------------------------------------------------------------
# datasets

#: every dataset the pipeline knows; a dataset's files live under results/<dataset>/
DATASETS = r"simulated/(?:linear|nonlinear)|screen|tabula_muris/(?:whole|heart)|sciplex|h5ad/[A-Za-z0-9_.-]+"
#: datasets preprocessed from their own counts (the heart is a subset of the whole data)
PREPROCESSED_DATASETS = r"simulated/(?:linear|nonlinear)|screen|tabula_muris/whole|sciplex|h5ad/[A-Za-z0-9_.-]+"


wildcard_constraints:
    dataset=DATASETS,
    seed=r"\d+",


def preprocess_params(wildcards):
    return section_params("preprocess", wildcards.dataset)


def raw_file(source, role):
    """A raw input: the user's local copy if the config names one, else the download target."""
    from michigan.data.sources import remote_file

    section = {"tabula_muris": "tabula_muris", "sciplex3": "sciplex"}[source]
    local = config[section].get(role)
    return local if local else f"resources/{source}/{remote_file(source, role).name}"


def download_role(wildcards):
    from michigan.data.sources import DATASET_FILES

    roles = {f.name: role for role, f in DATASET_FILES[wildcards.source].items()}
    if wildcards.filename not in roles:
        raise WorkflowError(
            f"resources/{wildcards.source}/{wildcards.filename} is not a known raw file; "
            f"known: {sorted(roles)}"
        )
    return roles[wildcards.filename]


def user_dataset(name):
    datasets = config["h5ad"]["datasets"]
    if name not in datasets:
        raise WorkflowError(
            f"h5ad/{name} is not configured; add it under h5ad.datasets (configured: "
            f"{sorted(datasets)})"
        )
    return datasets[name]


def user_h5ad_path(wildcards):
    return user_dataset(wildcards.name)["path"]


def h5ad_params(wildcards):
    return michigan_config.dump_params(
        {"datasets": {wildcards.name: user_dataset(wildcards.name)}}
    )


def section_keys_params(name, keep):
    """An input function giving the keys of the dataset's section `name` for which `keep(key)`
    holds, as job params: for rules that use only part of a section."""

    def params(wildcards):
        section = michigan_config.job_section(config, name, dataset=wildcards.dataset)
        return michigan_config.dump_params(
            {k: v for k, v in section.items() if keep(k)}
        )

    return params


def simulation_params(wildcards):
    return section_params("simulation", f"simulated/{wildcards.variant}")


# --------------------------------------------------------------------------------------------------
# models

REPRESENTATIONS = ["ppca", "vae", "btcvae"]
CONDITIONAL_GENERATORS = ["cwgan_gp", "michigan"]
GENERATORS = ["wgan_gp", "infowgan_gp"] + [
    f"{model}_{codes}"
    for model in CONDITIONAL_GENERATORS
    for codes in ("mean", "sampled")
]


wildcard_constraints:
    trainset=r"all|heldout|lowdh",
    rep="|".join(REPRESENTATIONS),
    gen="|".join(GENERATORS),
    model="|".join(REPRESENTATIONS + GENERATORS),


def run_dir(wildcards):
    return f"results/{wildcards.dataset}/{wildcards.trainset}/seed{wildcards.seed}"


def split_file(wildcards):
    return f"results/{wildcards.dataset}/splits/{wildcards.trainset}.json"


def split_option(wildcards):
    """The CLI option that restricts training to a split's training cells ("" for all cells)."""
    if wildcards.trainset == "all":
        return ""
    return f"--train-split {split_file(wildcards)}"


def training_inputs(wildcards):
    inputs = {"data": f"results/{wildcards.dataset}/preprocessed.h5ad"}
    if wildcards.trainset != "all":
        inputs["split"] = split_file(wildcards)
    return inputs


def representation_params(wildcards):
    return section_params("representation", wildcards.dataset)


def generator_params(wildcards):
    return section_params("generator", wildcards.dataset)


def generator_model(wildcards):
    """`michigan_mean` -> `michigan`; unconditional names stay as they are."""
    return (
        wildcards.gen.rsplit("_", 1)[0] if is_conditional(wildcards) else wildcards.gen
    )


def is_conditional(wildcards):
    name = getattr(wildcards, "gen", None) or wildcards.model
    return name.rsplit("_", 1)[0] in CONDITIONAL_GENERATORS


def codes_file(wildcards):
    """Codes that condition the generators: those of generator.representation's model."""
    representation = config["generator"]["representation"]
    return f"{run_dir(wildcards)}/{representation}/codes.h5ad"


def code_options(wildcards):
    if getattr(wildcards, "model", None) in REPRESENTATIONS or not is_conditional(
        wildcards
    ):
        return ""
    mode = (getattr(wildcards, "gen", None) or wildcards.model).rsplit("_", 1)[1]
    return f"--codes {codes_file(wildcards)} --code-mode {mode}"


def generator_training_inputs(wildcards):
    inputs = training_inputs(wildcards)
    if is_conditional(wildcards):
        inputs["codes"] = codes_file(wildcards)
    return inputs


def generation_inputs(wildcards):
    inputs = training_inputs(wildcards)
    inputs["model"] = f"{run_dir(wildcards)}/{wildcards.model}/model"
    if wildcards.model not in REPRESENTATIONS and is_conditional(wildcards):
        inputs["codes"] = codes_file(wildcards)
    return inputs


# --------------------------------------------------------------------------------------------------
# evaluation


def dataset_factors(wildcards):
    """obs columns of a dataset's ground-truth factors (the simulations' or a user's)."""
    from michigan import keys

    if wildcards.dataset.startswith("simulated/"):
        return " ".join(keys.SIMULATION_FACTORS)
    if wildcards.dataset.startswith("h5ad/"):
        factors = user_dataset(wildcards.dataset.removeprefix("h5ad/"))["factor_keys"]
        if factors:
            return " ".join(factors)
    raise WorkflowError(
        f"dataset {wildcards.dataset} has no ground-truth factors for the disentanglement "
        "metrics (set factor_keys of an h5ad dataset)"
    )


def label_option(wildcards):
    """Cell types for the inception score, where the dataset has them."""
    if wildcards.dataset.startswith(("tabula_muris/", "sciplex", "screen")):
        return "--labels cell_type"
    if wildcards.dataset.startswith("h5ad/"):
        key = user_dataset(wildcards.dataset.removeprefix("h5ad/"))["cell_type_key"]
        return "--labels cell_type" if key else ""
    return ""


# --------------------------------------------------------------------------------------------------
# targets


def generator_runs():
    """Generator run names: unconditional models, conditional ones once per code mode."""
    runs = []
    for model in config["generator"]["models"]:
        if model in CONDITIONAL_GENERATORS:
            runs += [f"{model}_{codes}" for codes in config["generator"]["codes"]]
        else:
            runs.append(model)
    return runs


def simulated_datasets():
    return [f"simulated/{variant}" for variant in config["simulation"]["variants"]]


def model_files(datasets, models, name, trainset="all"):
    """`name` (e.g. disentanglement.json) of every model, dataset and seed."""
    return [
        f"results/{dataset}/{trainset}/seed{seed}/{model}/{name}"
        for dataset in datasets
        for seed in config["seeds"]
        for model in models
    ]


def disentanglement_metrics():
    """Tables 1 and 3: codes of the representation models, input codes of the generators."""
    models = config["representation"]["models"] + generator_runs()
    return model_files(simulated_datasets(), models, "disentanglement.json")


TABULA_MURIS = ["tabula_muris/heart", "tabula_muris/whole"]


def generation_metrics():
    """Table 2: generated cells of the VAEs (noisy reconstructions) and the generators."""
    models = [
        m for m in config["representation"]["models"] if m != "ppca"
    ] + generator_runs()
    return model_files(TABULA_MURIS, models, "generation.json")


def training_curves(datasets):
    """Fig. S4: training curves of the Table 2 models, when snapshots are kept."""
    models = []
    if config["representation"]["snapshot_every"]:
        models += [m for m in config["representation"]["models"] if m != "ppca"]
    if config["generator"]["snapshot_every"]:
        models += generator_runs()
    return model_files(datasets, models, "training_curve.tsv")


def table_inputs(wildcards):
    if wildcards.table == "table2":
        return generation_metrics()
    return disentanglement_metrics()


#: held-out experiments and their datasets
HELDOUT_EXPERIMENTS = (("screen_heldout", "screen"), ("sciplex_heldout", "sciplex"))
#: the report's front page fragment (workflow/report/workflow.rst includes it)
FRONT_PAGE = "results/report/front_page.rst"


def front_page_inputs(wildcards):
    """The orderings and every configured held-out experiment's verdict table."""
    return {
        "orderings": "results/tables/orderings.tsv",
        "verdicts": [
            path.replace(".json", ".tsv") for path in orderings_inputs()["verdicts"]
        ],
    }


def front_page_categories(wildcards):
    """Report categories the front page links: the tables, and the held-out experiment's."""
    categories = ["Tables vs paper"]
    if orderings_inputs()["verdicts"]:
        categories.append("Held-out prediction")
    return categories


def final_targets():
    """Every output that `rule all` builds for the configured experiments."""
    experiments = config["experiments"]
    targets = []
    if "simulated_disentanglement" in experiments:
        names = ("table1", "table3")
        targets += [f"results/tables/{name}.md" for name in names]
        targets += figure_targets(simulated_datasets())
    if "tabula_muris_generation" in experiments:
        targets.append("results/tables/table2.md")
        targets += training_curves(TABULA_MURIS)
        targets += figure_targets(["tabula_muris/heart"])
        targets += figure_targets(["tabula_muris/whole"], traversals=False)
    for experiment, dataset in HELDOUT_EXPERIMENTS:
        if experiment in experiments:
            targets += heldout_targets(dataset)
    if orderings_inputs()["tables"] or orderings_inputs()["verdicts"]:
        targets += ["results/tables/orderings.md", FRONT_PAGE]
    return targets


def orderings_inputs():
    """The comparison tables and held-out verdicts of the configured experiments."""
    experiments = config["experiments"]
    tables = []
    if "simulated_disentanglement" in experiments:
        tables += ["table1", "table3"]
    if "tabula_muris_generation" in experiments:
        tables.append("table2")
    return {
        "tables": [f"results/tables/{table}.tsv" for table in tables],
        "verdicts": [
            f"results/{dataset}/prediction/verdicts.json"
            for experiment, dataset in HELDOUT_EXPERIMENTS
            if experiment in experiments
        ],
    }


def heldout_targets(dataset):
    """Fig. 4a-c and the test statistics of the held-out experiment on `dataset`, every seed."""
    names = [
        "fig4a_rf_error.png",
        "fig4b_delta_h.png",
        "fig4c_lowdh.png",
        "statistics.tsv",
    ]
    return [
        f"results/{dataset}/prediction/seed{seed}/{name}"
        for seed in config["seeds"]
        for name in names
    ] + [f"results/{dataset}/prediction/verdicts.tsv"]


# --------------------------------------------------------------------------------------------------
# figures (workflow/rules/figures.smk)


def figures_params(*prefixes):
    """Job params: the figures keys starting with one of `prefixes` (changing the traversal
    settings does not refit the UMAP, and so on)."""
    return section_keys_params("figures", lambda key: key.startswith(prefixes))


def umap_color_option(wildcards):
    """A user dataset's factor and cell type columns; the other datasets' metadata is found by name."""
    if not wildcards.dataset.startswith("h5ad/"):
        return ""
    dataset = user_dataset(wildcards.dataset.removeprefix("h5ad/"))
    columns = list(dataset["factor_keys"]) + [
        key for key in [dataset["cell_type_key"]] if key
    ]
    return "--colors " + " ".join(columns) if columns else ""


def representation_codes(wildcards):
    """{model: codes.h5ad} of every configured representation model of the run."""
    return {
        model: f"{run_dir(wildcards)}/{model}/codes.h5ad"
        for model in config["representation"]["models"]
    }


def codes_arguments(wildcards):
    return " ".join(
        f"--codes {model} {path}"
        for model, path in representation_codes(wildcards).items()
    )


def traversal_generators():
    """(conditional, unconditional) generator runs traversed: MichiGAN per code mode, WGAN-GP."""
    models = config["generator"]["models"]
    conditional = [
        f"michigan_{codes}"
        for codes in config["generator"]["codes"]
        if "michigan" in models
    ]
    return conditional, [model for model in ("wgan_gp",) if model in models]


def traversal_inputs(wildcards):
    run = run_dir(wildcards)
    representation = config["generator"]["representation"]
    conditional, unconditional = traversal_generators()
    return {
        "data": f"results/{wildcards.dataset}/preprocessed.h5ad",
        "embedding": f"results/{wildcards.dataset}/umap/embedding.pkl",
        "codes": f"{run}/{representation}/codes.h5ad",
        "representation": f"{run}/{representation}/model",
        "conditional": [f"{run}/{model}/model" for model in conditional],
        "unconditional": [f"{run}/{model}/model" for model in unconditional],
    }


def traversal_model_options(wildcards, input):
    return " ".join(
        [f"--conditional {path}" for path in input.conditional]
        + [f"--unconditional {path}" for path in input.unconditional]
    )


def has_factors(dataset):
    """Whether `dataset` has ground-truth factors (for the code x factor bar charts)."""
    try:
        dataset_factors(SimpleNamespace(dataset=dataset))
    except WorkflowError:
        return False
    return True


def figure_targets(datasets, trainset="all", traversals=True):
    """Every figure of `datasets` for every seed: what `rule all` requests for the figures
    (the traversal figures only with `traversals`, e.g. not for a dataset without a population).
    """
    targets = [f"results/{dataset}/figures/umap_factors.png" for dataset in datasets]
    names = ["umap_codes"] + (
        ["traversal_umap", "traversal_genes"] if traversals else []
    )
    for dataset in datasets:
        for seed in config["seeds"]:
            figures = f"results/{dataset}/{trainset}/seed{seed}/figures"
            targets += [f"{figures}/{name}.png" for name in names]
            if has_factors(dataset):
                targets.append(f"{figures}/code_factor_bars.png")
    return targets


# --------------------------------------------------------------------------------------------------
# held-out prediction (workflow/rules/predict.smk)


def prediction_params(*names):
    """Job params: only the prediction keys `names` (a change to the low-Delta H settings does
    not rerun the predictions and vice versa)."""
    return section_keys_params("prediction", lambda key: key in names)


def prediction_inputs(wildcards):
    """The run's data, split, codes, representation model and MichiGAN of the code mode."""
    run = run_dir(wildcards)
    return {
        "data": f"results/{wildcards.dataset}/preprocessed.h5ad",
        "split": split_file(wildcards),
        "codes": codes_file(wildcards),
        "representation": f"{run}/{config['generator']['representation']}/model",
        "generator": f"{run}/michigan_{wildcards.codes}/model",
    }


def prediction_scope(wildcards):
    """All combinations are predicted for the heldout run only (prediction.all_combinations)."""
    return "--held-out-only" if wildcards.trainset == "lowdh" else ""


def lowdh_ranking_table(wildcards):
    """The heldout run that ranks the combinations: the first configured seed, lowdh_codes."""
    section = michigan_config.job_section(
        config, "prediction", dataset=wildcards.dataset
    )
    return (
        f"results/{wildcards.dataset}/heldout/seed{config['seeds'][0]}/prediction/"
        f"{section['lowdh_codes']}/predictions.tsv"
    )


def prediction_runs(trainset, kind):
    """Input function: the `kind` ("predictions.tsv" or "summary.json") of every configured
    code mode's run on `trainset`."""

    def files(wildcards):
        return [
            f"results/{wildcards.dataset}/{trainset}/seed{wildcards.seed}/prediction/{codes}/{kind}"
            for codes in config["generator"]["codes"]
        ]

    return files


def heldout_seed_tables(wildcards):
    """The heldout run's prediction table of every code mode and seed (codes outer)."""
    return [
        f"results/{wildcards.dataset}/heldout/seed{seed}/prediction/{codes}/predictions.tsv"
        for codes in config["generator"]["codes"]
        for seed in config["seeds"]
    ]


def heldout_seed_labels():
    """`--codes ... --seeds ...` of `heldout_seed_tables`, in the same order."""
    pairs = [(c, s) for c in config["generator"]["codes"] for s in config["seeds"]]
    codes = " ".join(c for c, _ in pairs)
    seeds = " ".join(str(s) for _, s in pairs)
    return f"--codes {codes} --seeds {seeds}"


def statistics_labels(wildcards):
    return " ".join(
        f"{trainset}/{codes}"
        for trainset in ("heldout", "lowdh")
        for codes in config["generator"]["codes"]
    )
