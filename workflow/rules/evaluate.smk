# Metrics of codes, of generators and of generated cells, one metrics .json per model.


rule evaluate_disentanglement:
    input:
        codes=f"{RUN}/{{rep}}/codes.h5ad",
    output:
        metrics=f"{RUN}/{{rep}}/disentanglement.json",
        record=f"{RUN}/{{rep}}/disentanglement.run.json",
    log:
        f"results/logs/evaluate_disentanglement/{RUN_ID}/{{rep}}.log",
    benchmark:
        f"results/benchmarks/evaluate_disentanglement/{RUN_ID}/{{rep}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=section_params("evaluation"),
        factors=dataset_factors,
    shell:
        "python -m michigan evaluate-disentanglement --params {params.section:q} "
        "--seed {wildcards.seed} --codes {input.codes} --factors {params.factors:q} "
        "--output {output.metrics} > {log} 2>&1"


rule evaluate_generator_disentanglement:
    input:
        generated=f"{RUN}/{{gen}}/generated.h5ad",
        real="results/{dataset}/preprocessed.h5ad",
    output:
        metrics=f"{RUN}/{{gen}}/disentanglement.json",
        record=f"{RUN}/{{gen}}/disentanglement.run.json",
    log:
        f"results/logs/evaluate_generator_disentanglement/{RUN_ID}/{{gen}}.log",
    benchmark:
        f"results/benchmarks/evaluate_generator_disentanglement/{RUN_ID}/{{gen}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=section_params("evaluation"),
        factors=dataset_factors,
    shell:
        "python -m michigan evaluate-generator-disentanglement --params {params.section:q} "
        "--seed {wildcards.seed} --generated {input.generated} --real {input.real} "
        "--factors {params.factors:q} --output {output.metrics} > {log} 2>&1"


rule evaluate_generation:
    input:
        generated=f"{RUN}/{{model}}/generated.h5ad",
        real="results/{dataset}/preprocessed.h5ad",
    output:
        metrics=f"{RUN}/{{model}}/generation.json",
        record=f"{RUN}/{{model}}/generation.run.json",
    log:
        f"results/logs/evaluate_generation/{RUN_ID}/{{model}}.log",
    benchmark:
        f"results/benchmarks/evaluate_generation/{RUN_ID}/{{model}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    threads: HEAVY_THREADS
    params:
        section=section_params("evaluation"),
        labels=label_option,
    shell:
        "python -m michigan evaluate-generation --params {params.section:q} "
        "--seed {wildcards.seed} --generated {input.generated} --real {input.real} "
        "{params.labels:q} --threads {threads} --output {output.metrics} > {log} 2>&1"


rule training_curve:
    input:
        unpack(generation_inputs),
    output:
        curve=f"{RUN}/{{model}}/training_curve.tsv",
        record=f"{RUN}/{{model}}/training_curve.run.json",
        figure=report(
            f"{RUN}/{{model}}/training_curve.png",
            caption="../report/fig_training_curve.rst",
            category="Paper figures",
            subcategory="Fig. S4 training curves",
            labels={"dataset": "{dataset}", "model": "{model}", "seed": "{seed}"},
        ),
    log:
        f"results/logs/training_curve/{RUN_ID}/{{model}}.log",
    benchmark:
        f"results/benchmarks/training_curve/{RUN_ID}/{{model}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    threads: HEAVY_THREADS
    params:
        section=section_params("evaluation"),
        split=split_option,
        codes=code_options,
        labels=label_option,
    shell:
        "python -m michigan training-curve --params {params.section:q} --seed {wildcards.seed} "
        "--model-dir {input.model} --real {input.data} {params.split:q} {params.codes:q} "
        "{params.labels:q} --threads {threads} --output {output.curve} "
        "--figure {output.figure} > {log} 2>&1"
