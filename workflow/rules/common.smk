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


def final_targets():
    """Every output that `rule all` builds for the configured experiments."""
    return []


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
