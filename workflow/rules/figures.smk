# The paper's figures and the latent traversals. See docs/figures.md.
# Layout: results/<dataset>/umap/{embedding.npz,cells.h5ad}   (the real cells' PCA + UMAP, once per dataset)
#         results/<dataset>/figures/umap_factors.png
#         results/<dataset>/<trainset>/seed<seed>/figures/{umap_codes,code_factor_bars,
#             traversal_umap,traversal_genes}.png
#         results/<dataset>/<trainset>/seed<seed>/traversal/{genes,cells}.tsv

UMAP_DIR = "results/{dataset}/umap"
FIGURE_RUN = f"{RUN}/figures"
TRAVERSAL_RUN = f"{RUN}/traversal"


rule umap:
    input:
        "results/{dataset}/preprocessed.h5ad",
    output:
        embedding=f"{UMAP_DIR}/embedding.npz",
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
        f"results/logs/umap_codes/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/umap_codes/{RUN_ID}.tsv"
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
        f"results/logs/code_factor_bars/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/code_factor_bars/{RUN_ID}.tsv"
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
        f"results/logs/latent_traversal/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/latent_traversal/{RUN_ID}.tsv"
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
