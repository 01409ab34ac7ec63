# Real data: downloads into resources/, dataset builders, users' h5ad files, the shared recipe.


rule download:
    output:
        "resources/{source}/{filename}",
    log:
        "results/logs/download/{source}/{filename}.log",
    benchmark:
        "results/benchmarks/download/{source}/{filename}.tsv"
    wildcard_constraints:
        source="|".join(catalogue.SOURCES),
    conda:
        "../../envs/michigan.yaml"
    params:
        section=section_params("downloads"),
        role=download_role,
    shell:
        "python -m michigan download --params {params.section:q} --source {wildcards.source} "
        "--role {params.role:q} --output {output:q} > {log:q} 2>&1"


rule tabula_muris:
    input:
        counts=raw_file("tabula_muris", "counts"),
        annotations=raw_file("tabula_muris", "annotations"),
    output:
        counts="results/tabula_muris/whole/counts.h5ad",
        record="results/tabula_muris/whole/counts.run.json",
    log:
        "results/logs/tabula_muris/whole.log",
    benchmark:
        "results/benchmarks/tabula_muris/whole.tsv"
    conda:
        "../../envs/michigan.yaml"
    resources:
        mem_mb=16000,
    params:
        section=section_params("tabula_muris"),
    shell:
        "python -m michigan tabula-muris --params {params.section:q} --counts {input.counts:q} "
        "--annotations {input.annotations:q} --output {output.counts} > {log} 2>&1"


rule tabula_muris_heart:
    input:
        "results/tabula_muris/whole/preprocessed.h5ad",
    output:
        subset="results/tabula_muris/heart/preprocessed.h5ad",
        record="results/tabula_muris/heart/preprocessed.run.json",
    log:
        "results/logs/tabula_muris/heart.log",
    benchmark:
        "results/benchmarks/tabula_muris/heart.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        tissue=config["tabula_muris"]["heart_tissue"],
    shell:
        "python -m michigan subset --input {input} --key tissue --values {params.tissue:q} "
        "--output {output.subset} > {log} 2>&1"


rule sciplex:
    input:
        matrix=raw_file("sciplex3", "matrix"),
        genes=raw_file("sciplex3", "genes"),
        cells=raw_file("sciplex3", "cells"),
        pdata=raw_file("sciplex3", "pdata"),
    output:
        counts="results/sciplex/counts.h5ad",
        record="results/sciplex/counts.run.json",
        table_s1=report(
            "results/sciplex/table_s1_comparison.tsv",
            caption="../report/table_s1.rst",
            category="Data",
            labels={"table": "Table S1"},
        ),
    log:
        "results/logs/sciplex/build.log",
    benchmark:
        "results/benchmarks/sciplex/build.tsv"
    conda:
        "../../envs/michigan.yaml"
    resources:
        mem_mb=8000,
    params:
        section=section_params("sciplex"),
    shell:
        "python -m michigan sciplex --params {params.section:q} --matrix {input.matrix:q} "
        "--genes {input.genes:q} --cells {input.cells:q} --pdata {input.pdata:q} "
        "--output {output.counts} --table-s1 {output.table_s1} > {log} 2>&1"


rule import_h5ad:
    input:
        user_h5ad_path,
    output:
        counts="results/h5ad/{name}/counts.h5ad",
        record="results/h5ad/{name}/counts.run.json",
    log:
        "results/logs/import_h5ad/{name}.log",
    benchmark:
        "results/benchmarks/import_h5ad/{name}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=h5ad_params,
    shell:
        "python -m michigan import-h5ad --params {params.section:q} --name {wildcards.name:q} "
        "--output {output.counts} > {log} 2>&1"


rule preprocess:
    input:
        "results/{dataset}/counts.h5ad",
    output:
        preprocessed="results/{dataset}/preprocessed.h5ad",
        record="results/{dataset}/preprocessed.run.json",
    log:
        "results/logs/preprocess/{dataset}.log",
    benchmark:
        "results/benchmarks/preprocess/{dataset}.tsv"
    wildcard_constraints:
        dataset=catalogue.dataset_pattern(own_counts=True),
    conda:
        "../../envs/michigan.yaml"
    params:
        section=preprocess_params,
    shell:
        "python -m michigan preprocess --params {params.section:q} --input {input} "
        "--output {output.preprocessed} > {log} 2>&1"
