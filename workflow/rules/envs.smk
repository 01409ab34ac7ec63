# Conda environments of the rules, used with `--sdm conda` (docs/cluster.md, "Conda environments"):
# envs/michigan.yaml for CPU work, envs/michigan-cuda.yaml for a training rule that is given GPUs
# (resource `gpu` > 0, set by profiles/slurm or `--set-resources RULE:gpu=N`), envs/splatter.yaml
# for `simulate` with `simulation.backend: splatter`. Paths are relative to workflow/rules/.

CPU_ENV = "../../envs/michigan.yaml"
CUDA_ENV = "../../envs/michigan-cuda.yaml"
SPLATTER_ENV = "../../envs/splatter.yaml"


def requested_gpus(rule):
    """GPUs per job that the profile or command line sets for `rule` (0 when it sets none)."""
    resources = workflow.resource_settings.overwrite_resources.get(rule, {})
    value = resources["gpu"] if "gpu" in resources else 0
    value = getattr(value, "raw", value)  # a snakemake Resource, from --set-resources
    try:
        return int(value)
    except (TypeError, ValueError):
        msg = (
            f"set-resources {rule}:gpu={value!r}: the number of GPUs must be an integer"
        )
        raise WorkflowError(msg) from None


def training_env(rule):
    """The CUDA environment for a training rule given GPUs, else the CPU one."""
    return CUDA_ENV if requested_gpus(rule) > 0 else CPU_ENV


def simulation_env(wildcards):
    """The R Splatter environment for a simulation run by the splatter backend."""
    section = michigan_config.job_section(
        config, "simulation", dataset=f"simulated/{wildcards.variant}"
    )
    return SPLATTER_ENV if section.get("backend") == "splatter" else CPU_ENV
