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
        table="table1|table2|table3",
    conda:
        "../../envs/michigan.yaml"
    shell:
        "python -m michigan table --metrics {input} --table {wildcards.table} "
        "--output {output.tsv} --markdown {output.markdown} > {log} 2>&1"
