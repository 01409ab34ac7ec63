# The paper's figures and the latent traversals. See docs/figures.md.
# Layout: results/<dataset>/umap/{embedding.npz,cells.h5ad}   (the real cells' PCA + UMAP, once per dataset)
#         results/<dataset>/figures/{umap_factors,traversal_population}.png
#         results/<dataset>/all/seed<seed>/figures/{umap_codes,code_factor_bars,generated_codes,
#             generated_code_factor_bars,traversal_umap,traversal_genes,training_curves}.png
#         results/<dataset>/all/seed<seed>/traversal/{genes,cells}.tsv
#         results/<dataset>/all/seed<seed>/wgan_gp_noise<D>/model   (WGAN-GPs for the traversals)
#         results/<dataset>/{heldout,lowdh}/seed<seed>/figures/heldout_cells.png
# Helper functions: common.smk and figures_helpers.smk.


include: "figures_helpers.smk"


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
            labels={
                "figure": "UMAP by metadata",
                "paper": "Figs 2a, S2a, S8a",
                "seed": "-",
            },
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
        "{params.colors:q} --label {wildcards.dataset:q} > {log} 2>&1"


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
                "paper": "Figs 2b, S2",
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
        "{params.codes:q} --output {output.figure} --label {params.label:q} > {log} 2>&1"


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
        "--seed {wildcards.seed} {params.codes:q} --factors {params.factors:q} "
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
                "paper": "Figs 3, S7a, S9",
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
                "paper": "Figs 3, S7a, S9",
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
        "--representation {input.representation} {params.models:q} --genes {output.genes} "
        "--cells {output.cells} --figure-umap {output.figure_umap} "
        "--figure-genes {output.figure_genes} --label {params.label:q} > {log} 2>&1"


use rule train_generator as train_wide_wgan with:
    input:
        unpack(training_inputs),
    output:
        model=directory(f"{RUN}/wgan_gp_noise{{noise}}/model"),
    log:
        f"results/logs/train_wide_wgan/{RUN_ID}/noise{{noise}}.log",
    benchmark:
        f"results/benchmarks/train_wide_wgan/{RUN_ID}/noise{{noise}}.tsv"
    wildcard_constraints:
        noise=r"\d+",
    params:
        section=wide_wgan_params,
        split=split_option,
        model="wgan_gp",
        codes="",
        checkpoints=f"{RUN}/wgan_gp_noise{{noise}}/checkpoint",


rule generated_codes:
    input:
        data="results/{dataset}/preprocessed.h5ad",
        embedding=f"{UMAP_DIR}/embedding.npz",
        generated=generated_cells,
    output:
        figure=report(
            f"{FIGURE_RUN}/generated_codes.png",
            caption="../report/fig_generated_codes.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "generated cells by input code",
                "paper": "Figs 2b, S3, S5",
                "seed": "{seed}",
            },
        ),
        record=f"{FIGURE_RUN}/generated_codes.run.json",
    log:
        f"results/logs/generated_codes/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/generated_codes/{RUN_ID}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("dpi"),
        generated=generated_arguments,
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan plot-generated-codes --params {params.section:q} "
        "--input {input.data:q} --embedding {input.embedding:q} {params.generated:q} --output {output.figure:q} "
        "--label {params.label:q} > {log} 2>&1"


rule generated_code_factor_bars:
    input:
        real="results/{dataset}/preprocessed.h5ad",
        generated=generated_cells,
    output:
        figure=report(
            f"{FIGURE_RUN}/generated_code_factor_bars.png",
            caption="../report/fig_generated_code_factor_bars.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "generator codes vs inferred factors",
                "paper": "Figs S3, S6",
                "seed": "{seed}",
            },
        ),
        record=f"{FIGURE_RUN}/generated_code_factor_bars.run.json",
    log:
        f"results/logs/generated_code_factor_bars/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/generated_code_factor_bars/{RUN_ID}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("dpi"),
        generated=generated_arguments,
        factors=dataset_factors,
        knn_k=evaluation_value("knn_k"),
        n_pcs=evaluation_value("n_pcs"),
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan plot-generated-code-factors --params {params.section:q} "
        "--seed {wildcards.seed} {params.generated:q} --real {input.real} "
        "--factors {params.factors:q} --knn-k {params.knn_k:q} --n-pcs {params.n_pcs:q} "
        "--output {output.figure} --label {params.label:q} > {log} 2>&1"


rule traversal_population:
    input:
        cells=f"{UMAP_DIR}/cells.h5ad",
    output:
        figure=report(
            "results/{dataset}/figures/traversal_population.png",
            caption="../report/fig_traversal_population.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "traversal population",
                "paper": "Figs S7b, S8c",
                "seed": "-",
            },
        ),
        record="results/{dataset}/figures/traversal_population.run.json",
    log:
        "results/logs/traversal_population/{dataset}.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("traversal_population", "dpi"),
    shell:
        "python -m michigan plot-population --params {params.section:q} --cells {input.cells} "
        "--output {output.figure} --label {wildcards.dataset:q} > {log} 2>&1"


rule heldout_cells:
    input:
        unpack(heldout_cells_inputs),
    output:
        figure=report(
            f"{FIGURE_RUN}/heldout_cells.png",
            caption="../report/fig_heldout_cells.rst",
            category="Held-out prediction",
            labels={
                "dataset": "{dataset}",
                "seed": "{seed}",
                "figure": "Figs 5 (lowdh run), S10a (heldout run)",
            },
        ),
        record=f"{FIGURE_RUN}/heldout_cells.run.json",
    log:
        f"results/logs/heldout_cells/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/heldout_cells/{RUN_ID}.tsv"
    wildcard_constraints:
        trainset="heldout|lowdh",
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("dpi"),
        label="{dataset}, {trainset} run, seed {seed}",
    shell:
        "python -m michigan plot-heldout-cells --params {params.section:q} "
        "--seed {wildcards.seed} --input {input.data} --embedding {input.embedding} "
        "--split {input.split} --codes {input.codes} --generator {input.generator} "
        "--output {output.figure} --label {params.label:q} > {log} 2>&1"


rule training_curves_overlay:
    input:
        unpack(training_curve_tables),
    output:
        figure=report(
            f"{FIGURE_RUN}/training_curves.png",
            caption="../report/fig_training_curves.rst",
            category="Paper figures",
            subcategory="{dataset}",
            labels={
                "figure": "training curves of every model",
                "paper": "Figs S4 (heart), S5c (whole)",
                "seed": "{seed}",
            },
        ),
        record=f"{FIGURE_RUN}/training_curves.run.json",
    log:
        f"results/logs/training_curves_overlay/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/training_curves_overlay/{RUN_ID}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=figures_params("dpi"),
        curves=training_curve_arguments,
        label="{dataset}, {trainset} cells, seed {seed}",
    shell:
        "python -m michigan plot-training-curves --params {params.section:q} "
        "{params.curves:q} --output {output.figure} --label {params.label:q} > {log} 2>&1"
