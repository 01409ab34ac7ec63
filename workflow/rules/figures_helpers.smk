# Helpers of the figure rules added for every paper panel (figures.smk): generated cells by their
# codes, the WGAN-GPs with wide noise, the held-out cells, the overlaid training curves (their
# targets: michigan.targets).


def generated_cells(wildcards):
    return [
        f"{run_dir(wildcards)}/{run}/generated.h5ad"
        for run in targets.generated_code_runs(config)
    ]


def generated_arguments(wildcards):
    runs = targets.generated_code_runs(config)
    return named_options("--generated", dict(zip(runs, generated_cells(wildcards))))


def training_curve_tables(wildcards):
    """{run: training_curve.tsv} of every run of the dataset and seed that keeps snapshots."""
    return {
        run: f"{run_dir(wildcards)}/{run}/training_curve.tsv"
        for run in targets.training_curve_runs(config)
    }


def training_curve_arguments(wildcards):
    return named_options("--curve", training_curve_tables(wildcards))


def evaluation_value(key):
    """Input function: the dataset's evaluation setting `key` (e.g. knn_k) for a CLI option."""

    def value(wildcards):
        section = michigan_config.job_section(
            config, "evaluation", dataset=wildcards.dataset
        )
        return section[key]

    return value


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
