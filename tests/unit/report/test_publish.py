"""Publishing a run: which files, the run record's wall times, the README's copy of the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from michigan.config import load_config
from michigan.report import publish

REPO = Path(__file__).resolve().parents[3]
#: every published run (the README holds a summary of each)
PUBLISHED_RUNS = sorted(path.parent for path in (REPO / "results/published").glob("*/run.json"))


def _record(stage: str, started: str, seconds: float, compile_s: float | None = None) -> dict:
    record = {"stage": stage, "started": f"2026-12-07T{started}+0000", "wall_time_s": seconds}
    if compile_s is not None:
        record["result"] = {"timing": {"compile_s": compile_s}}
    return record


def test_wall_time_counts_overlapping_jobs_once_and_leaves_gaps_out():
    records = [
        _record("train-generator", "10:00:00", 60, compile_s=20),
        _record("train-generator", "10:00:30", 60, compile_s=0.5),  # beside the first: 90 s busy
        _record("table", "10:05:00", 10),  # after a gap of 3.5 min (a second part)
    ]
    record = publish.run_record(records, name="test", configfiles=[], config={})
    assert record["wall_time_s"] == 100
    assert record["jobs"] == 3
    stages = {row["stage"]: row for row in record["stages"]}
    assert stages["train-generator"] == {
        "stage": "train-generator",
        "jobs": 2,
        "job_seconds": 120,
        "busy_s": 90,
        "compile_s": 20.5,
    }
    assert record["first_started"] == "2026-12-07T10:00:00+0000"
    assert record["last_finished"] == "2026-12-07T10:05:10+0000"
    assert len(record["parts"]) == 1  # 3.5 min without a job is no pause between two parts


def test_a_pause_of_more_than_five_minutes_splits_the_run_into_parts(tmp_path):
    records = [
        _record("train-generator", "10:00:00", 60),
        _record("encode", "10:00:50", 30),
        _record("table", "10:06:21", 10),  # 5 min 1 s after the last job ended
        _record("orderings", "10:06:31", 5),
    ]
    record = publish.run_record(records, name="test", configfiles=[], config={})
    assert record["parts"] == [
        {
            "first_started": "2026-12-07T10:00:00+0000",
            "last_finished": "2026-12-07T10:01:20+0000",
            "wall_time_s": 80,
            "jobs": 2,
        },
        {
            "first_started": "2026-12-07T10:06:21+0000",
            "last_finished": "2026-12-07T10:06:36+0000",
            "wall_time_s": 15,
            "jobs": 2,
        },
    ]
    assert record["wall_time_s"] == 95
    summary = publish.summary_markdown(record, tmp_path)
    assert "4 jobs in 1:35 wall in 2 parts (1:20 with 2 jobs, 0:15 with 2)," in summary


def test_no_records_is_an_error():
    with pytest.raises(FileNotFoundError, match="run the pipeline before publishing"):
        publish.run_record([], name="test", configfiles=[], config={})


def test_reproduce_publication_holds_tables_verdicts_and_first_seed_figures():
    config = load_config(REPO / "config.yaml", REPO / "config/reproduce.yaml")
    files = publish.published_files(config)
    for path in (
        "results/tables/table1.md",
        "results/tables/table3.tsv",
        "results/tables/orderings.md",
        "results/screen/prediction/verdicts.json",
        "results/screen/prediction/seed2/statistics.tsv",
        "results/report/front_page.rst",
        "results/simulated/linear/all/seed0/figures/traversal_genes.png",
    ):
        assert path in files
    assert not [path for path in files if "/figures/" in path and "/seed1/" in path]


def test_readme_block_is_replaced_between_its_markers():
    begin, end = publish.readme_markers("demo")
    readme = f"# Title\n\n{begin}\nold\n{end}\n\nafter\n"
    replaced = publish.replace_readme_block(readme, "demo", "new summary\n")
    assert replaced == f"# Title\n\n{begin}\nnew summary\n{end}\n\nafter\n"
    assert publish.readme_block(replaced, "demo") == "new summary\n"
    with pytest.raises(ValueError, match="no block for published/other"):
        publish.readme_block(readme, "other")


def test_an_unfinished_run_is_not_published(tmp_path, caplog):
    from michigan.cli import main

    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    (results / "tables/table1.md").write_text("| only one file |\n")
    configfiles = [str(REPO / "config.yaml"), str(REPO / "config/reproduce.yaml")]
    status = main(["publish", "reproduce", "--configfile", *configfiles, "--results", str(results)])
    assert status == 2
    assert "the run is not finished" in caplog.text
    assert not (results / "published").exists()


@pytest.mark.parametrize("published", PUBLISHED_RUNS, ids=lambda path: path.name)
def test_readme_results_equal_each_published_run(published):
    """The README's Results quote each published summary, and the summary follows from the files."""
    from michigan.io import read_json

    record = read_json(published / "run.json")
    summary = (published / "summary.md").read_text(encoding="utf-8")
    assert publish.summary_markdown(record, published) == summary
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert publish.readme_block(readme, published.name) == summary
