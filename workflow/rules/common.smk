# Helpers shared by the rules: config sections as job params, targets, wildcard constraints.
import sys
from pathlib import Path

from snakemake_interface_executor_plugins.settings import DeploymentMethod

SRC = Path(workflow.basedir) / "src"
# the package's own code, also when Snakemake runs outside its venv
sys.path.insert(0, str(SRC))

from michigan import config as michigan_config  # noqa: E402
from michigan import catalogue, config_checks, targets  # noqa: E402
from michigan.report.paper import TABLES  # noqa: E402


def config_layers():
    """(name, mapping) of the Snakefile's config file, each --configfile and the --config values,
    in the order Snakemake merges them."""
    settings = workflow.config_settings
    files = [f for f in workflow.configfiles if f not in settings.configfiles]
    files += list(settings.configfiles)
    layers = [(str(f), michigan_config.read_yaml(f)) for f in files]
    return layers + [("--config", dict(settings.config))]


def validated_config():
    """The config with the schema's defaults, after every check (michigan.config_checks)."""
    source = "the workflow config"
    try:
        filled = michigan_config.validate(
            config, michigan_config.load_schema(), source=source
        )
        config_checks.check_workflow_config(filled, source=source)
    except michigan_config.ConfigError as error:
        raise WorkflowError(str(error)) from None
    return filled


config.update(validated_config())
for note in config_checks.override_notes(config_layers()):
    print(note, file=sys.stderr)


def option(flag, values):
    """The words `flag values...` (none when there are no values), for `{params.x:q}`: every
    config-derived value reaches a rule's shell command as a param quoted word by word.
    """
    return [flag, *map(str, values)] if values else []


def named_options(flag, paths):
    """The words `flag name path` for every {name: path} of `paths`, for `{params.x:q}`."""
    return [word for name, path in paths.items() for word in (flag, name, path)]


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
    'export JAX_COMPILATION_CACHE_DIR="${{MICHIGAN_JAX_CACHE:-${{JAX_COMPILATION_CACHE_DIR:-$PWD/.snakemake/jax-cache}}}}"; '
    'export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="${{JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS:-0}}"; '
)
# Local jobs pin themselves to cores of their own (michigan.cores), claimed in one folder per user and
# machine, so that concurrent runs share them too; cluster jobs get theirs from the scheduler.
if workflow.local_exec and not workflow.remote_exec:
    SHELL_SETUP += 'export MICHIGAN_CORE_SLOTS="${{MICHIGAN_CORE_SLOTS:-/tmp/michigan-core-slots-$(id -u)}}"; '
if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    shell.prefix(
        SHELL_SETUP + f'export PYTHONPATH="{SRC}${{{{PYTHONPATH:+:$PYTHONPATH}}}}"; '
    )
else:
    shell.prefix(SHELL_SETUP + f'export PATH="{Path(sys.executable).parent}:$PATH"; ')


def section_params(name, dataset=None):
    """The config section `name` as a job sees it (compact JSON; see michigan.config.job_section)."""
    return michigan_config.dump_params(
        michigan_config.job_section(config, name, dataset=dataset)
    )


# --------------------------------------------------------------------------------------------------
# datasets (michigan.catalogue); a dataset's files live under results/<dataset>/


wildcard_constraints:
    dataset=catalogue.dataset_pattern(),
    seed=r"\d+",


def preprocess_params(wildcards):
    return section_params("preprocess", wildcards.dataset)


def raw_file(source, role):
    """A raw input: the user's local copy if the config names one, else the download target."""
    return catalogue.raw_file_path(source, role, config)


def download_role(wildcards):
    files = catalogue.SOURCES[wildcards.source].files
    roles = {f.name: role for role, f in files.items()}
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
        section = michigan_config.job_section(
            config, name, dataset=getattr(wildcards, "dataset", None)
        )
        return michigan_config.dump_params(
            {k: v for k, v in section.items() if keep(k)}
        )

    return params


def evaluation_params(*names):
    """Job params: only the evaluation keys `names`."""
    return section_keys_params("evaluation", lambda key: key in names)


def simulation_params(wildcards):
    return section_params("simulation", f"simulated/{wildcards.variant}")


# --------------------------------------------------------------------------------------------------
# models (michigan.catalogue): a run is a model, or a conditional generator and its code mode


wildcard_constraints:
    trainset="|".join(catalogue.TRAINSETS),
    rep=catalogue.run_pattern("representation"),
    gen=catalogue.run_pattern("generator"),
    model=catalogue.run_pattern(),
    codes="|".join(catalogue.CODE_MODES),


def run_dir(wildcards):
    return f"results/{wildcards.dataset}/{wildcards.trainset}/seed{wildcards.seed}"


def split_file(wildcards):
    return f"results/{wildcards.dataset}/splits/{wildcards.trainset}.json"


def split_option(wildcards):
    """The CLI option that restricts training to a split's training cells ("" for all cells)."""
    if wildcards.trainset == "all":
        return []
    return option("--train-split", [split_file(wildcards)])


def training_inputs(wildcards):
    inputs = {"data": f"results/{wildcards.dataset}/preprocessed.h5ad"}
    if wildcards.trainset != "all":
        inputs["split"] = split_file(wildcards)
    return inputs


def representation_params(wildcards):
    return section_params("representation", wildcards.dataset)


def generator_params(wildcards):
    return section_params("generator", wildcards.dataset)


def run_name(wildcards):
    return getattr(wildcards, "gen", None) or wildcards.model


def generator_model(wildcards):
    """`michigan_mean` -> `michigan`; unconditional names stay as they are."""
    return catalogue.run_model(wildcards.gen).name


def is_conditional(wildcards):
    return catalogue.run_model(run_name(wildcards)).conditional


def codes_file(wildcards):
    """Codes that condition the generators: those of generator.representation's model."""
    representation = config["generator"]["representation"]
    return f"{run_dir(wildcards)}/{representation}/codes.h5ad"


def code_options(wildcards):
    if not is_conditional(wildcards):
        return []
    mode = run_name(wildcards).rsplit("_", 1)[1]
    return ["--codes", codes_file(wildcards), "--code-mode", mode]


def generator_training_inputs(wildcards):
    inputs = training_inputs(wildcards)
    if is_conditional(wildcards):
        inputs["codes"] = codes_file(wildcards)
    return inputs


def generation_inputs(wildcards):
    inputs = training_inputs(wildcards)
    inputs["model"] = f"{run_dir(wildcards)}/{wildcards.model}/model"
    if is_conditional(wildcards):
        inputs["codes"] = codes_file(wildcards)
    return inputs


# --------------------------------------------------------------------------------------------------
# evaluation


def dataset_factors(wildcards):
    """The dataset's factor columns (a user's column names: quote them with `:q`)."""
    try:
        return list(targets.factor_columns(config, wildcards.dataset))
    except (KeyError, ValueError) as error:
        raise WorkflowError(str(error)) from None


def label_option(wildcards):
    """Cell types for the inception score, where the dataset has them."""
    labels = targets.dataset(config, wildcards.dataset).labels
    return option("--labels", [labels] if labels else [])


# --------------------------------------------------------------------------------------------------
# targets (michigan.targets)


def table_inputs(wildcards):
    return targets.table_inputs(config, wildcards.table)


FRONT_PAGE = targets.FRONT_PAGE


def orderings_inputs():
    return targets.orderings_inputs(config)


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
    return targets.final_targets(config)


# --------------------------------------------------------------------------------------------------
# figures (workflow/rules/figures.smk)


def figures_params(*prefixes):
    """Job params: the figures keys starting with one of `prefixes` (changing the traversal
    settings does not refit the UMAP, and so on)."""
    return section_keys_params("figures", lambda key: key.startswith(prefixes))


def umap_color_option(wildcards):
    """A user dataset's factor and cell type columns; the other datasets' metadata is found by name."""
    return option("--colors", targets.umap_colors(config, wildcards.dataset))


def representation_codes(wildcards):
    """{model: codes.h5ad} of every configured representation model of the run."""
    return {
        model: f"{run_dir(wildcards)}/{model}/codes.h5ad"
        for model in config["representation"]["models"]
    }


def codes_arguments(wildcards):
    return named_options("--codes", representation_codes(wildcards))


def traversal_inputs(wildcards):
    run = run_dir(wildcards)
    representation = config["generator"]["representation"]
    conditional, unconditional = targets.traversal_runs(config)
    unconditional += targets.wide_wgan_runs(config)
    return {
        "data": f"results/{wildcards.dataset}/preprocessed.h5ad",
        "embedding": f"results/{wildcards.dataset}/umap/embedding.npz",
        "codes": f"{run}/{representation}/codes.h5ad",
        "representation": f"{run}/{representation}/model",
        "conditional": [f"{run}/{model}/model" for model in conditional],
        "unconditional": [f"{run}/{model}/model" for model in unconditional],
    }


def traversal_model_options(wildcards, input):
    return [
        word
        for role in ("conditional", "unconditional")
        for path in getattr(input, role)
        for word in (f"--{role}", path)
    ]


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
        if trainset not in targets.prediction_trainsets(config):
            return []
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
    return option("--codes", [c for c, _ in pairs]) + option(
        "--seeds", [s for _, s in pairs]
    )


def statistics_labels(wildcards):
    return targets.statistics_labels(config)
