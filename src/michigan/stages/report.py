"""Report stages: the tables of our results beside the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan.report.paper import TABLES
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse


@stage(
    "table",
    help="One paper table (1-3) of our results beside the paper's (mean ± 95%% CI over seeds).",
    section=None,
    arguments=(
        arg("--metrics", type=Path, nargs="+", required=True, help="metrics .json files"),
        arg("--table", required=True, choices=sorted(TABLES), help="paper table"),
        arg("--output", type=Path, required=True, help="TSV to write"),
        arg("--markdown", type=Path, required=True, help="Markdown rendering to write"),
    ),
    inputs=lambda a: {f"metrics_{i}": path for i, path in enumerate(a.metrics)},
    outputs=lambda a: {"table": a.output, "markdown": a.markdown},
)
def table(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Summarise the metrics files over seeds and join them with the paper's values."""
    from michigan.io import atomic_path
    from michigan.report.collect import metric_records
    from michigan.report.tables import compare_with_paper, summarise_over_seeds, to_markdown

    summary = summarise_over_seeds(metric_records(args.metrics))
    comparison = compare_with_paper(summary, args.table)
    with atomic_path(args.output) as tmp:
        comparison.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(to_markdown(comparison) + "\n", encoding="utf-8")
    return {"paper_values_with_ours": int(comparison["mean"].notna().sum())}


@stage(
    "orderings",
    help="Check the paper's conclusions (Tables 1-3, Fig. 4a) on our values: holds, fails or "
    "uninformative.",
    section=None,
    arguments=(
        arg("--tables", type=Path, nargs="*", default=[], help="comparison table TSVs"),
        arg(
            "--verdicts",
            type=Path,
            nargs="*",
            default=[],
            help="verdicts .json of the held-out experiments (prediction-verdicts)",
        ),
        arg("--output", type=Path, required=True, help="TSV to write"),
        arg("--markdown", type=Path, required=True, help="Markdown rendering to write"),
    ),
    inputs=lambda a: {
        **{f"table_{i}": path for i, path in enumerate(a.tables)},
        **{f"verdicts_{i}": path for i, path in enumerate(a.verdicts)},
    },
    outputs=lambda a: {"orderings": a.output, "markdown": a.markdown},
)
def orderings(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """One row per claim and dataset: our values, the paper's, holds / fails / uninformative."""
    import pandas as pd

    from michigan.io import atomic_path, read_json
    from michigan.report.orderings import check_claims, check_heldout_claims, to_markdown

    if not args.tables and not args.verdicts:
        msg = "give at least one comparison table (--tables) or verdicts file (--verdicts)"
        raise ValueError(msg)
    verdicts = {}
    for path in args.verdicts:
        record = read_json(path)
        verdicts[record["dataset"]] = record["runs"]
    parts = [
        check_claims(pd.read_csv(path, sep="\t") for path in args.tables),
        check_heldout_claims(verdicts),
    ]
    checked = pd.concat([part for part in parts if not part.empty] or parts[:1], ignore_index=True)
    with atomic_path(args.output) as tmp:
        checked.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(to_markdown(checked) + "\n", encoding="utf-8")
    return checked["ours"].value_counts().to_dict()


@stage(
    "front-page",
    help="Write the report's front page fragment: the verdicts and orderings (reStructuredText).",
    section=None,
    arguments=(
        arg("--orderings", type=Path, required=True, help="orderings TSV"),
        arg("--verdicts", type=Path, nargs="*", default=[], help="verdicts TSV per dataset"),
        arg("--datasets", nargs="*", default=[], help="dataset of each verdicts TSV"),
        arg("--links", nargs="*", default=[], help="report file base names to link"),
        arg("--categories", nargs="*", default=[], help="report categories to link"),
        arg("--output", type=Path, required=True, help=".rst fragment to write"),
    ),
    inputs=lambda a: {
        "orderings": a.orderings,
        **{f"verdicts_{i}": path for i, path in enumerate(a.verdicts)},
    },
    outputs=lambda a: {"front_page": a.output},
)
def front_page(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Render :func:`michigan.report.front_page.front_page` of the orderings and verdicts."""
    import pandas as pd

    from michigan.io import atomic_path
    from michigan.report.front_page import front_page as render

    if len(args.datasets) != len(args.verdicts):
        msg = f"give one --datasets entry per --verdicts file ({len(args.verdicts)})"
        raise ValueError(msg)
    text = render(
        pd.read_csv(args.orderings, sep="\t"),
        {
            dataset: pd.read_csv(path, sep="\t")
            for dataset, path in zip(args.datasets, args.verdicts, strict=True)
        },
        files=args.links,
        categories=args.categories,
    )
    with atomic_path(args.output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return {"lines": text.count("\n") + 1}


@stage(
    "publish",
    help="Copy a finished run's tables, verdicts and main figures to results/published/<name>/ "
    "with one record of the run (commit, config, hardware, wall time per stage) and a summary.",
    section=None,
    arguments=(
        arg("name", help="publication name, e.g. reproduce"),
        arg(
            "--configfile",
            type=Path,
            nargs="+",
            default=[Path("config.yaml")],
            help="the run's configuration files, as given to snakemake (default: config.yaml)",
        ),
        arg("--results", type=Path, default=Path("results"), help="results directory"),
        arg("--readme", type=Path, default=None, help="also rewrite this README's summary block"),
    ),
    inputs=lambda a: {f"config_{i}": path for i, path in enumerate(a.configfile)},
    outputs=lambda a: {"summary": a.results / "published" / a.name / "summary.md"},
)
def publish(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Copy the run's files, then write ``run.json`` and ``summary.md`` beside them."""
    import shutil

    from michigan.config import load_config
    from michigan.io import atomic_path, write_json
    from michigan.report import publish as pub

    config = load_config(*args.configfile)
    files = pub.published_files(config)
    sources = {path: args.results / Path(path).relative_to("results") for path in files}
    missing = [path for path, source in sources.items() if not source.is_file()]
    if missing:
        msg = f"the run is not finished: {len(missing)} files missing, e.g. {missing[:3]}"
        raise FileNotFoundError(msg)
    record = pub.run_record(
        pub.read_run_records(args.results),
        name=args.name,
        configfiles=args.configfile,
        config=config,
    )
    destination = args.results / "published" / args.name
    for path, source in sources.items():
        target = destination / Path(path).relative_to("results")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    write_json(record, destination / "run.json")
    summary = pub.summary_markdown(record, destination)
    with atomic_path(destination / "summary.md") as tmp:
        tmp.write_text(summary, encoding="utf-8")
    if args.readme:
        text = pub.replace_readme_block(args.readme.read_text(encoding="utf-8"), args.name, summary)
        with atomic_path(args.readme) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return {"files": len(files), "wall_time_s": record["wall_time_s"], "jobs": record["jobs"]}
