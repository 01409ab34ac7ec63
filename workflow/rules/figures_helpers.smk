# Helpers of the figure rules added for every paper panel (figures.smk): generated cells by their
# codes, the WGAN-GPs with wide noise, the held-out cells and the targets of these figures.
import shlex


def generated_code_runs():
    """Generator runs that take a code (all but WGAN-GP): their cells are coloured by it."""
    return [run for run in generator_runs() if run != "wgan_gp"]


def generated_cells(wildcards):
    return [
        f"{run_dir(wildcards)}/{run}/generated.h5ad" for run in generated_code_runs()
    ]


def generated_arguments(wildcards):
    return " ".join(
        f"--generated {run} {shlex.quote(path)}"
        for run, path in zip(generated_code_runs(), generated_cells(wildcards))
    )


def evaluation_value(key):
    """Input function: the dataset's evaluation setting `key` (e.g. knn_k) for a CLI option."""

    def value(wildcards):
        section = michigan_config.job_section(
            config, "evaluation", dataset=wildcards.dataset
        )
        return section[key]

    return value


def wide_wgan_runs():
    """The WGAN-GPs trained for the traversals only (figures.traversal_wgan_noise_dims)."""
    return [
        f"wgan_gp_noise{dim}" for dim in config["figures"]["traversal_wgan_noise_dims"]
    ]


def wide_wgan_params(wildcards):
    """The dataset's generator section with the wildcard's noise dimension."""
    section = michigan_config.job_section(
        config, "generator", dataset=wildcards.dataset
    )
    return michigan_config.dump_params(
        section | {"wgan_noise_dim": int(wildcards.noise)}
    )


def heldout_cells_inputs(wildcards):
    """A held-out run's data, split, codes and its MichiGAN: that of prediction.lowdh_codes (the
    paper's main run) when that code mode is trained, else of the first configured one.
    """
    section = michigan_config.job_section(
        config, "prediction", dataset=wildcards.dataset
    )
    trained = config["generator"]["codes"]
    codes = section["lowdh_codes"] if section["lowdh_codes"] in trained else trained[0]
    return {
        "data": f"results/{wildcards.dataset}/preprocessed.h5ad",
        "embedding": f"results/{wildcards.dataset}/umap/embedding.npz",
        "split": split_file(wildcards),
        "codes": codes_file(wildcards),
        "generator": f"{run_dir(wildcards)}/michigan_{codes}/model",
    }


def extra_figure_targets():
    """The figures of generated cells, traversal populations, sci-Plex's all-cells models and the
    held-out cells on the UMAP, for the configured experiments (added to `rule all`)."""
    experiments = config["experiments"]
    datasets = []
    if "simulated_disentanglement" in experiments:
        datasets += simulated_datasets()
    if "tabula_muris_generation" in experiments:
        datasets += TABULA_MURIS
    heldout = [
        dataset
        for experiment, dataset in (
            ("screen_heldout", "screen"),
            ("sciplex_heldout", "sciplex"),
        )
        if experiment in experiments
    ]
    targets = []
    if "sciplex" in heldout:
        # Figs 3c-d, S8, S9: the traversals need models trained on every sci-Plex cell
        targets += figure_targets(["sciplex"])
        datasets.append("sciplex")
    for dataset in datasets:
        targets.append(f"results/{dataset}/figures/traversal_population.png")
        for seed in config["seeds"]:
            figures = f"results/{dataset}/all/seed{seed}/figures"
            if generated_code_runs():
                targets.append(f"{figures}/generated_codes.png")
                if has_factors(dataset):
                    targets.append(f"{figures}/generated_code_factor_bars.png")
    targets += [
        f"results/{dataset}/{trainset}/seed{seed}/figures/heldout_cells.png"
        for dataset in heldout
        for seed in config["seeds"]
        for trainset in ("heldout", "lowdh")
    ]
    return targets
