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
        unpack(lambda wildcards: orderings_inputs()),
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
        "python -m michigan orderings --tables {input.tables} --verdicts {input.verdicts} "
        "--output {output.tsv} --markdown {output.markdown} > {log} 2>&1"


rule front_page:
    input:
        unpack(front_page_inputs),
    output:
        fragment=report(
            FRONT_PAGE,
            caption="../report/front_page.rst",
            category="Summary",
            labels={"table": "verdicts and orderings"},
        ),
        record="results/report/front_page.run.json",
    log:
        "results/logs/front_page.log",
    conda:
        "../../envs/michigan.yaml"
    params:
        datasets=lambda wildcards, input: [
            Path(path).parts[1] for path in input.verdicts
        ],
        links=lambda wildcards, input: [
            Path(path).name
            for path in [input.orderings, *orderings_inputs()["tables"]]
        ],
        categories=front_page_categories,
    shell:
        "python -m michigan front-page --orderings {input.orderings} "
        "--verdicts {input.verdicts} --datasets {params.datasets:q} "
        "--links {params.links:q} --categories {params.categories:q} "
        "--output {output.fragment} > {log} 2>&1"
