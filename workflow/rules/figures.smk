# The paper's figures and the latent traversals. See docs/figures.md.
# Layout: results/<dataset>/umap/{embedding.pkl,cells.h5ad}   (the real cells' PCA + UMAP, once per dataset)
#         results/<dataset>/figures/umap_factors.png
#         results/<dataset>/<trainset>/seed<seed>/figures/{umap_codes,code_factor_bars,
#             traversal_umap,traversal_genes}.png
#         results/<dataset>/<trainset>/seed<seed>/traversal/{genes,cells}.tsv

from types import SimpleNamespace

UMAP_DIR = "results/{dataset}/umap"
FIGURE_RUN = f"{RUN}/figures"
TRAVERSAL_RUN = f"{RUN}/traversal"


def figures_params(*prefixes):
    """Job params: the keys of the dataset's figures section that start with one of `prefixes`,
    so that changing the traversal settings does not refit the UMAP, and so on."""

    def params(wildcards):
        section = michigan_config.job_section(
            config, "figures", dataset=wildcards.dataset
        )
        return michigan_config.dump_params(
            {key: value for key, value in section.items() if key.startswith(prefixes)}
        )

    return params


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


rule umap:
    input:
        "results/{dataset}/preprocessed.h5ad",
    output:
        embedding=f"{UMAP_DIR}/embedding.pkl",
        record=f"{UMAP_DIR}/embedding.run.json",
        cells=f"{UMAP_DIR}/cells.h5ad",
        figure=report(
            "results/{dataset}/figures/umap_factors.png",
            caption="../report/fig_umap_factors.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={"figure": "UMAP by metadata", "paper": "Figs 2, S5", "seed": "-"},
        ),
    log:
        "results/logs/umap/{dataset}.log",
    benchmark:
        "results/benchmarks/umap/{dataset}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("umap_", "dpi"),
        colors=umap_color_option,
    shell:
        "python -m michigan fit-umap --params {params.section:q} --input {input} "
        "--output {output.embedding} --cells {output.cells} --figure {output.figure} "
        "{params.colors} --label {wildcards.dataset:q} > {log} 2>&1"


rule umap_codes:
    input:
        unpack(representation_codes),
        cells=f"{UMAP_DIR}/cells.h5ad",
    output:
        figure=report(
            f"{FIGURE_RUN}/umap_codes.png",
            caption="../report/fig_umap_codes.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "UMAP by code dimension",
                "paper": "Figs 2, S2, S3, S5, S6",
                "seed": "{seed}",
            },
        ),
        record=f"{FIGURE_RUN}/umap_codes.run.json",
    log:
        f"results/logs/umap_codes/{RUN}.log",
    benchmark:
        f"results/benchmarks/umap_codes/{RUN}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("dpi"),
        codes=codes_arguments,
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan plot-codes --params {params.section:q} --cells {input.cells} "
        "{params.codes} --output {output.figure} --label {params.label:q} > {log} 2>&1"


rule code_factor_bars:
    input:
        unpack(representation_codes),
    output:
        figure=report(
            f"{FIGURE_RUN}/code_factor_bars.png",
            caption="../report/fig_code_factor_bars.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "codes vs factors",
                "paper": "Fig S1",
                "seed": "{seed}",
            },
        ),
        record=f"{FIGURE_RUN}/code_factor_bars.run.json",
    log:
        f"results/logs/code_factor_bars/{RUN}.log",
    benchmark:
        f"results/benchmarks/code_factor_bars/{RUN}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("mi_", "dpi"),
        codes=codes_arguments,
        factors=dataset_factors,
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan plot-code-factors --params {params.section:q} "
        "--seed {wildcards.seed} {params.codes} --factors {params.factors} "
        "--output {output.figure} --label {params.label:q} > {log} 2>&1"


rule latent_traversal:
    input:
        unpack(traversal_inputs),
    output:
        genes=f"{TRAVERSAL_RUN}/genes.tsv",
        record=f"{TRAVERSAL_RUN}/genes.run.json",
        cells=f"{TRAVERSAL_RUN}/cells.tsv",
        figure_umap=report(
            f"{FIGURE_RUN}/traversal_umap.png",
            caption="../report/fig_traversal_umap.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "latent traversals on the UMAP",
                "paper": "Figs 3, S7-S9",
                "seed": "{seed}",
            },
        ),
        figure_genes=report(
            f"{FIGURE_RUN}/traversal_genes.png",
            caption="../report/fig_traversal_genes.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "gene changes along traversals",
                "paper": "Figs 3, S7-S9",
                "seed": "{seed}",
            },
        ),
    log:
        f"results/logs/latent_traversal/{RUN}.log",
    benchmark:
        f"results/benchmarks/latent_traversal/{RUN}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("traversal_", "dpi"),
        models=traversal_model_options,
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan traverse --params {params.section:q} --seed {wildcards.seed} "
        "--input {input.data} --embedding {input.embedding} --codes {input.codes} "
        "--representation {input.representation} {params.models} --genes {output.genes} "
        "--cells {output.cells} --figure-umap {output.figure_umap} "
        "--figure-genes {output.figure_genes} --label {params.label:q} > {log} 2>&1"
