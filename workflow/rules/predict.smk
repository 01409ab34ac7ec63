# Held-out cell type x drug prediction (paper Fig. 4): the split, the predictions of every run
# trained on it, the low-Delta H retrain and the figures. See docs/prediction.md.
# Layout: results/<dataset>/splits/{heldout,lowdh}.json,
#         results/<dataset>/<trainset>/seed<seed>/prediction/<codes>/{predictions.tsv,summary.json}
#         (<trainset> heldout or lowdh, <codes> mean or sampled: which MichiGAN decodes),
#         results/<dataset>/prediction/seed<seed>/{fig4a_rf_error,fig4b_delta_h,fig4c_lowdh}.png
#         and statistics.tsv; results/<dataset>/prediction/verdicts.{tsv,json} (every seed and the
#         seed average).

PREDICTION = f"{RUN}/prediction/{{codes}}"
FIGURES = "results/{dataset}/prediction/seed{seed}"


rule split_heldout:
    input:
        "results/{dataset}/preprocessed.h5ad",
    output:
        split="results/{dataset}/splits/heldout.json",
        record="results/{dataset}/splits/heldout.run.json",
    log:
        "results/logs/split_heldout/{dataset}.log",
    benchmark:
        "results/benchmarks/split_heldout/{dataset}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=prediction_params("heldout"),
    shell:
        "python -m michigan split-heldout --params {params.section:q} --input {input} "
        "--output {output.split} > {log} 2>&1"


rule predict_heldout:
    input:
        unpack(prediction_inputs),
    output:
        table=f"{PREDICTION}/predictions.tsv",
        summary=f"{PREDICTION}/summary.json",
        record=f"{PREDICTION}/predictions.run.json",
    log:
        f"results/logs/predict_heldout/{RUN_ID}/{{codes}}.log",
    benchmark:
        f"results/benchmarks/predict_heldout/{RUN_ID}/{{codes}}.tsv"
    wildcard_constraints:
        trainset="|".join(targets.PREDICTION_TRAINSETS),
    conda:
        "../../envs/michigan.yaml"
    threads: HEAVY_THREADS
    params:
        section=prediction_params(
            "all_combinations", "max_cells", "delta_h_cells", "n_de_genes"
        ),
        scope=prediction_scope,
        evaluation=evaluation_params("rf_trees", "rf_folds", "n_pcs"),
    shell:
        "python -m michigan predict-heldout --params {params.section:q} --seed {wildcards.seed} "
        "--input {input.data} --split {input.split} --codes {input.codes} "
        "--representation {input.representation} --generator {input.generator} "
        "--code-mode {wildcards.codes} {params.scope:q} --evaluation {params.evaluation:q} "
        "--threads {threads} "
        "--output {output.table} --summary {output.summary} > {log} 2>&1"


rule split_lowdh:
    input:
        data="results/{dataset}/preprocessed.h5ad",
        predictions=lowdh_ranking_table,
    output:
        split="results/{dataset}/splits/lowdh.json",
        ranking=report(
            "results/{dataset}/splits/lowdh_ranking.tsv",
            caption="../report/prediction_lowdh_ranking.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "table": "low-Delta H ranking"},
        ),
        record="results/{dataset}/splits/lowdh.run.json",
    log:
        "results/logs/split_lowdh/{dataset}.log",
    benchmark:
        "results/benchmarks/split_lowdh/{dataset}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=prediction_params("lowdh_k", "lowdh_estimator"),
    shell:
        "python -m michigan split-lowdh --params {params.section:q} --input {input.data} "
        "--predictions {input.predictions} --output {output.split} "
        "--ranking {output.ranking} > {log} 2>&1"


rule prediction_figures:
    input:
        tables=prediction_runs("heldout", "predictions.tsv"),
        summaries=prediction_runs("heldout", "summary.json"),
    output:
        rf_error=report(
            f"{FIGURES}/fig4a_rf_error.png",
            caption="../report/prediction_rf_error.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "seed": "{seed}", "figure": "Fig. 4a"},
        ),
        delta_h=report(
            f"{FIGURES}/fig4b_delta_h.png",
            caption="../report/prediction_delta_h.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "seed": "{seed}", "figure": "Fig. 4b"},
        ),
    log:
        f"results/logs/prediction_figures/{FIGURES}.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        codes=config["generator"]["codes"],
    shell:
        "(python -m michigan plot-prediction --figure rf_error --codes {params.codes:q} "
        "--tables {input.tables} --summaries {input.summaries} --output {output.rf_error} && "
        "python -m michigan plot-prediction --figure delta_h --codes {params.codes:q} "
        "--tables {input.tables} --summaries {input.summaries} --output {output.delta_h}) "
        "> {log} 2>&1"


rule prediction_figure_lowdh:
    input:
        tables=prediction_runs("lowdh", "predictions.tsv"),
        summaries=prediction_runs("lowdh", "summary.json"),
    output:
        figure=report(
            f"{FIGURES}/fig4c_lowdh.png",
            caption="../report/prediction_lowdh.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "seed": "{seed}", "figure": "Fig. 4c"},
        ),
    log:
        f"results/logs/prediction_figure_lowdh/{FIGURES}.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        codes=config["generator"]["codes"],
    shell:
        "python -m michigan plot-prediction --figure lowdh --codes {params.codes:q} "
        "--tables {input.tables} --summaries {input.summaries} --output {output.figure} "
        "> {log} 2>&1"


rule prediction_statistics:
    input:
        heldout=prediction_runs("heldout", "summary.json"),
        lowdh=prediction_runs("lowdh", "summary.json"),
    output:
        table=report(
            f"{FIGURES}/statistics.tsv",
            caption="../report/prediction_statistics.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "seed": "{seed}", "table": "tests"},
        ),
    log:
        f"results/logs/prediction_statistics/{FIGURES}.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        labels=statistics_labels,
    shell:
        "python -m michigan prediction-statistics --summaries {input.heldout} {input.lowdh} "
        "--labels {params.labels:q} --output {output.table} > {log} 2>&1"


rule prediction_verdicts:
    input:
        heldout_seed_tables,
    output:
        table=report(
            "results/{dataset}/prediction/verdicts.tsv",
            caption="../report/prediction_verdicts.rst",
            category="Held-out prediction",
            labels={"dataset": "{dataset}", "seed": "all", "table": "verdicts"},
        ),
        summary="results/{dataset}/prediction/verdicts.json",
        record="results/{dataset}/prediction/verdicts.run.json",
    log:
        "results/logs/prediction_verdicts/{dataset}.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        runs=heldout_seed_labels(),
        representation=config["generator"]["representation"],
    shell:
        "python -m michigan prediction-verdicts {params.runs:q} --tables {input} "
        "--representation {params.representation:q} --dataset {wildcards.dataset:q} "
        "--output {output.table} "
        "--summary {output.summary} > {log} 2>&1"
