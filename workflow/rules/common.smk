# Helpers shared by the rules: config sections as job params, targets, wildcard constraints.
import sys
from pathlib import Path

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


# Rules call `python -m michigan <stage>`. With --sdm conda, python is the rule's conda env and the
# package comes from src/ through PYTHONPATH; otherwise python is the one running Snakemake.
if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    shell.prefix(
        f'set -euo pipefail; export PYTHONPATH="{SRC}${{PYTHONPATH:+:$PYTHONPATH}}"; '
    )
else:
    shell.prefix(
        f'set -euo pipefail; export PATH="{Path(sys.executable).parent}:$PATH"; '
    )


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


def table_inputs(wildcards):
    if wildcards.table == "table2":
        return generation_metrics()
    return disentanglement_metrics()


def final_targets():
    """Every output that `rule all` builds for the configured experiments."""
    experiments = config["experiments"]
    targets = []
    if "simulated_disentanglement" in experiments:
        targets += [f"results/tables/{table}.md" for table in ("table1", "table3")]
    if "tabula_muris_generation" in experiments:
        targets.append("results/tables/table2.md")
    return targets
