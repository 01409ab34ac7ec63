# MichiGAN reproduction pipeline: entry point only. Rules live in workflow/rules/*.smk, helpers in
# workflow/rules/common.smk, report captions in workflow/report/, the configuration contract in
# src/michigan/config.schema.yaml.
from snakemake.utils import min_version

min_version("9.0")


# relative to this file, so that `--directory` runs find it
configfile: workflow.source_path("config.yaml")


# common.smk validates the config once (every problem listed by key) and fills in the schema's
# defaults.
include: "workflow/rules/common.smk"


report: "workflow/report/workflow.rst"


include: "workflow/rules/envs.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        final_targets(),
