# Models: representation (PPCA, VAE, beta-TCVAE) -> codes -> generators -> generated cells.
# Layout: results/<dataset>/<trainset>/seed<seed>/<model>/{model/,codes.h5ad,generated.h5ad,...}
# where <trainset> is "all" or a held-out split (results/<dataset>/splits/<trainset>.json).
# Training checkpoints live beside model/ and are not outputs, so a failed or preempted job's
# rerun resumes from them.

RUN_ID = "{dataset}/{trainset}/seed{seed}"
RUN = f"results/{RUN_ID}"


rule train_representation:
    input:
        unpack(training_inputs),
    output:
        model=directory(f"{RUN}/{{rep}}/model"),
    log:
        f"results/logs/train_representation/{RUN_ID}/{{rep}}.log",
    benchmark:
        f"results/benchmarks/train_representation/{RUN_ID}/{{rep}}.tsv"
    conda:
        training_env("train_representation")
    threads: HEAVY_THREADS
    resources:
        gpu=0,
    params:
        section=representation_params,
        split=split_option,
        checkpoints=f"{RUN}/{{rep}}/checkpoint",
    shell:
        "python -m michigan train-representation --params {params.section:q} "
        "--seed {wildcards.seed} --model {wildcards.rep} --input {input.data} {params.split:q} "
        "--output {output.model} --checkpoint-dir {params.checkpoints:q} "
        "--gpus {resources.gpu} > {log} 2>&1"


rule encode:
    input:
        data="results/{dataset}/preprocessed.h5ad",
        model=f"{RUN}/{{rep}}/model",
    output:
        codes=f"{RUN}/{{rep}}/codes.h5ad",
        record=f"{RUN}/{{rep}}/codes.run.json",
    log:
        f"results/logs/encode/{RUN_ID}/{{rep}}.log",
    benchmark:
        f"results/benchmarks/encode/{RUN_ID}/{{rep}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    shell:
        "python -m michigan encode --seed {wildcards.seed} --input {input.data} "
        "--model-dir {input.model} --output {output.codes} > {log} 2>&1"


rule train_generator:
    input:
        unpack(generator_training_inputs),
    output:
        model=directory(f"{RUN}/{{gen}}/model"),
    log:
        f"results/logs/train_generator/{RUN_ID}/{{gen}}.log",
    benchmark:
        f"results/benchmarks/train_generator/{RUN_ID}/{{gen}}.tsv"
    conda:
        training_env("train_generator")
    threads: HEAVY_THREADS
    resources:
        gpu=0,
    params:
        section=generator_params,
        split=split_option,
        model=generator_model,
        codes=code_options,
        checkpoints=f"{RUN}/{{gen}}/checkpoint",
    shell:
        "python -m michigan train-generator --params {params.section:q} "
        "--seed {wildcards.seed} --model {params.model:q} --input {input.data} {params.split:q} "
        "{params.codes:q} --output {output.model} --checkpoint-dir {params.checkpoints:q} "
        "--gpus {resources.gpu} > {log} 2>&1"


rule generate:
    input:
        unpack(generation_inputs),
    output:
        generated=f"{RUN}/{{model}}/generated.h5ad",
        record=f"{RUN}/{{model}}/generated.run.json",
    log:
        f"results/logs/generate/{RUN_ID}/{{model}}.log",
    benchmark:
        f"results/benchmarks/generate/{RUN_ID}/{{model}}.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        split=split_option,
        codes=code_options,
    shell:
        "python -m michigan generate --seed {wildcards.seed} --input {input.data} {params.split:q} "
        "--model-dir {input.model} {params.codes:q} --output {output.generated} > {log} 2>&1"
