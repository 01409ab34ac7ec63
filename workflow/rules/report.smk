# Tables of our results beside the paper's.


rule table:
    input:
        table_inputs,
    output:
        tsv=report(
            "results/tables/{table}.tsv",
            caption="../report/tables.rst",
            category="Tables vs paper",
            labels={"table": "{table}", "format": "TSV"},
        ),
        markdown="results/tables/{table}.md",
        record="results/tables/{table}.run.json",
    log:
        "results/logs/table/{table}.log",
    benchmark:
        "results/benchmarks/table/{table}.tsv"
    wildcard_constraints:
        table="|".join(TABLES),
    conda:
        "../../envs/michigan.yaml"
    shell:
        "python -m michigan table --metrics {input} --table {wildcards.table} "
        "--output {output.tsv} --markdown {output.markdown} > {log} 2>&1"


rule orderings:
    input:
        expand("results/tables/{table}.tsv", table=["table1", "table3"]),
    output:
        tsv=report(
            "results/tables/orderings.tsv",
            caption="../report/orderings.rst",
            category="Tables vs paper",
            labels={"table": "orderings", "format": "TSV"},
        ),
        markdown="results/tables/orderings.md",
        record="results/tables/orderings.run.json",
    log:
        "results/logs/orderings.log",
    benchmark:
        "results/benchmarks/orderings.tsv"
    conda:
        "../../envs/michigan.yaml"
    shell:
        "python -m michigan orderings --tables {input} --output {output.tsv} "
        "--markdown {output.markdown} > {log} 2>&1"
