# Simulated data: the two Splat paths simulations (Tables 1 and 3) and the perturbation screen.


rule simulate:
    output:
        counts="results/simulated/{variant}/counts.h5ad",
        record="results/simulated/{variant}/counts.run.json",
    log:
        "results/logs/simulate/{variant}.log",
    benchmark:
        "results/benchmarks/simulate/{variant}.tsv"
    wildcard_constraints:
        variant="linear|nonlinear",
    conda:
        simulation_env
    params:
        section=simulation_params,
    shell:
        "python -m michigan simulate --params {params.section:q} --output {output.counts} "
        "> {log} 2>&1"


rule simulate_screen:
    output:
        counts="results/screen/counts.h5ad",
        record="results/screen/counts.run.json",
    log:
        "results/logs/simulate_screen.log",
    benchmark:
        "results/benchmarks/simulate_screen.tsv"
    conda:
        "../../envs/michigan.yaml"
    params:
        section=section_params("screen"),
    shell:
        "python -m michigan simulate-screen --params {params.section:q} "
        "--output {output.counts} > {log} 2>&1"
