"""Publish a finished run: copy its tables, verdicts and main figures, and write one record of it.

``michigan publish`` copies the files a preset's reader needs (:func:`published_files`) from
``results/`` to ``results/published/<name>/`` (same layout, without the leading ``results/``),
writes ``run.json`` (:func:`run_record`: commit, configuration, hardware, wall time per stage,
from the ``run.json`` record every job leaves beside its output) and ``summary.md``
(:func:`summary_markdown`), the Markdown that the README's Results section holds between
``<!-- published/<name>/summary.md -->`` markers (:func:`replace_readme_block`).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from michigan import targets
from michigan.io import git_commit, read_json
from michigan.progress import format_duration
from michigan.report.front_page import format_value

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
#: a pause longer than this with no job running ends one part of a run (and the next one starts)
PART_GAP_S = 300.0


def published_files(config: Mapping[str, Any]) -> list[str]:
    """The outputs of ``config``'s run that a publication holds, as paths under ``results/``.

    The comparison tables and the orderings (TSV and Markdown), every held-out dataset's
    statistics, verdicts and Fig. 4 panels for every seed, the report's front page, and the first
    seed's figures of the simulations.
    """
    inputs = targets.orderings_inputs(config)
    files = []
    for table in [*inputs["tables"], "results/tables/orderings.tsv"]:
        files += [table, table.removesuffix(".tsv") + ".md"]
    for name in targets.heldout_datasets(config):
        files += targets.heldout_targets(config, name)
        files.append(f"results/{name}/prediction/verdicts.json")
    if inputs["tables"] or inputs["verdicts"]:
        files.append(targets.FRONT_PAGE)
    first_seed = f"/seed{config['seeds'][0]}/"
    files += [
        path
        for path in targets.figure_targets(config, targets.simulated_datasets(config))
        if "/seed" not in path or first_seed in path
    ]
    return files


def read_run_records(results: Path) -> list[dict[str, Any]]:
    """Every job's ``run.json`` record under ``results`` (publications left out)."""
    records = []
    for path in sorted(results.rglob("*run.json")):
        if "published" in path.relative_to(results).parts:
            continue
        record = read_json(path)
        if "stage" in record and "started" in record and "wall_time_s" in record:
            records.append(record)
    return records


def stage_times(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per stage: jobs, the sum of their wall times and compile times, and the time they kept the run busy.

    ``busy_s`` is the length of the union of the stage's job intervals (jobs that ran side by side
    count once), so the stages' ``busy_s`` add up to more than the run's wall time only where
    stages overlapped. ``compile_s`` sums the training jobs' compilation (or cache look-up) times.
    """
    rows = []
    for stage, group in _by_stage(records).items():
        rows.append(
            {
                "stage": stage,
                "jobs": len(group),
                "job_seconds": round(sum(r["wall_time_s"] for r in group), 1),
                "busy_s": round(_union_length(_intervals(group)), 1),
                "compile_s": round(sum(_compile_seconds(r) for r in group), 1),
            }
        )
    return pd.DataFrame(rows).sort_values("busy_s", ascending=False, ignore_index=True)


def run_record(
    records: Sequence[Mapping[str, Any]],
    *,
    name: str,
    configfiles: Sequence[Path],
    config: Mapping[str, Any],
) -> dict[str, Any]:
    """One record of the whole run: what ran, where, at which commit, and how long each stage took.

    ``wall_time_s`` is the length of the union of every job's interval: the run's wall time when
    it ran in one go, and the sum of its parts' when it ran in parts (the gaps between them left
    out); ``first_started`` and ``last_finished`` bound it. ``parts`` has each part's bounds, wall
    time and job count; a pause of more than ``PART_GAP_S`` with no job running separates two.
    """
    if not records:
        msg = "no job records (run.json) found: run the pipeline before publishing it"
        raise FileNotFoundError(msg)
    intervals = _intervals(records)
    backends = {(r.get("device") or {}).get("jax_backend") for r in records} - {None}
    return {
        "name": name,
        "configfiles": {str(path): path.read_text(encoding="utf-8") for path in configfiles},
        "config": dict(config),
        "job_commits": sorted({str(r.get("git_commit")) for r in records}),
        "published_at_commit": git_commit(Path.cwd()),
        "hardware": hardware() | {"jax": sorted(backends)},
        "versions": records[-1].get("versions", {}),
        "jobs": len(records),
        "first_started": min(start for start, _ in intervals).strftime(_TIME_FORMAT),
        "last_finished": max(end for _, end in intervals).strftime(_TIME_FORMAT),
        "wall_time_s": round(_union_length(intervals), 1),
        "parts": _parts(intervals),
        "stages": stage_times(records).to_dict(orient="records"),
    }


def hardware() -> dict[str, Any]:
    """The CPU model, its core count and the memory of this machine."""
    info: dict[str, Any] = {"machine": platform.machine(), "cpus": os.cpu_count()}
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.is_file():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        info["cpu_model"] = models[0] if models else platform.processor()
    if meminfo.is_file():
        total = next(line for line in meminfo.read_text().splitlines() if "MemTotal" in line)
        info["memory_gib"] = round(int(total.split()[1]) / 2**20, 1)
    return info


def summary_markdown(record: Mapping[str, Any], destination: Path) -> str:
    """The Markdown summary of a publication: run facts, verdicts, orderings, tables, stage times.

    Every number in it is read from the published files in ``destination``.
    """
    name = record["name"]
    hardware_line = record["hardware"]
    commits = ", ".join(c[:12] for c in record["job_commits"])
    lines = [
        f"**{name}** ({', '.join(f'`{p}`' for p in record['configfiles'])}; commit {commits}): "
        f"{record['jobs']} jobs in {format_duration(record['wall_time_s'])} wall{_parts_note(record)}, "
        f"{record['first_started'][:10]}, on {hardware_line.get('cpu_model', '?')} "
        f"({hardware_line['cpus']} cores, {hardware_line.get('memory_gib', '?')} GiB), "
        f"JAX on {', '.join(hardware_line['jax'])}. "
        f"Files: `results/published/{name}/`.",
        "",
    ]
    orderings = destination / "tables/orderings.tsv"
    if orderings.is_file():
        checked = pd.read_csv(orderings, sep="\t")
        counts = checked["ours"].value_counts()
        lines += [
            "Orderings (`tables/orderings.md`): "
            + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("holds", "fails", "uninformative"))
            + ".",
            "",
            _claims_markdown(checked),
            "",
        ]
    for verdicts in sorted(destination.glob("*/prediction/verdicts.tsv")):
        dataset = verdicts.parts[-3]
        lines += [
            f"Held-out tests on {dataset}, seed average, all predictions "
            f"(`{dataset}/prediction/verdicts.tsv`):",
            "",
            _verdicts_markdown(pd.read_csv(verdicts, sep="\t")),
            "",
        ]
    for table in ("table1", "table2", "table3"):
        path = destination / f"tables/{table}.md"
        if path.is_file():
            lines += [f"`tables/{table}.md`:", "", path.read_text(encoding="utf-8").strip(), ""]
    stages = pd.DataFrame(record["stages"])
    stages["busy"] = [format_duration(s) for s in stages["busy_s"]]
    stages["job time"] = [format_duration(s) for s in stages["job_seconds"]]
    stages["compile"] = [format_duration(s) if s else "–" for s in stages["compile_s"]]
    lines += [
        "Wall time per stage (`run.json`; busy: while any job of the stage ran; compile: the "
        "training jobs' compilation or cache look-up, summed):",
        "",
        stages[["stage", "jobs", "busy", "job time", "compile"]].to_markdown(index=False),
    ]
    return "\n".join(lines) + "\n"


def readme_markers(name: str) -> tuple[str, str]:
    """The comment lines around the README's copy of ``published/<name>/summary.md``."""
    return (
        f"<!-- published/{name}/summary.md: written by michigan publish -->",
        f"<!-- end of published/{name}/summary.md -->",
    )


def readme_block(readme: str, name: str) -> str:
    """The text between the markers of ``name`` in ``readme``.

    Raises
    ------
    ValueError
        When the markers are missing or out of order.
    """
    begin, end = readme_markers(name)
    start, stop = readme.find(begin), readme.find(end)
    if start < 0 or stop < start:
        msg = f"the README has no block for published/{name}: add the lines {begin!r} and {end!r}"
        raise ValueError(msg)
    return readme[start + len(begin) : stop].strip("\n") + "\n"


def replace_readme_block(readme: str, name: str, summary: str) -> str:
    """``readme`` with the block of ``name`` replaced by ``summary``."""
    begin, end = readme_markers(name)
    readme_block(readme, name)  # the markers exist
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{summary.strip()}\n{end}{tail}"


def _claims_markdown(checked: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "claim": checked["claim"],
            "dataset": checked["dataset"],
            "ours": checked["ours"],
            "values (ours)": [
                f"{format_value(left)} vs {format_value(right)}"
                for left, right in zip(checked["ours_left"], checked["ours_right"], strict=True)
            ],
            "values (paper)": [
                "–" if pd.isna(left) else f"{format_value(left)} vs {format_value(right)}"
                for left, right in zip(checked["paper_left"], checked["paper_right"], strict=True)
            ],
            "reason": checked["reason"],
        }
    )
    return shown.to_markdown(index=False, disable_numparse=True)


def _verdicts_markdown(table: pd.DataFrame) -> str:
    from michigan.predict.summary import seed_average_tests

    shown = seed_average_tests(table)
    return pd.DataFrame(
        {
            "run": shown["run"],
            "test": shown["test"],
            "n": [("–" if pd.isna(n) else str(int(n))) for n in shown["n"]],
            "p": ["–" if pd.isna(p) else f"{p:.2g}" for p in shown["p_value"]],
            "MichiGAN": [format_value(v) for v in shown["median_generator"]],
            "arm": [format_value(v) for v in shown["median_arm"]],
            "floor": [format_value(v) for v in shown["median_floor"]],
            "verdict": shown["verdict"],
            "reason": shown["reason"],
        }
    ).to_markdown(index=False, disable_numparse=True)


def _parts_note(record: Mapping[str, Any]) -> str:
    """`` in 2 parts (1:10:00 with 168 jobs, 0:50:00 with 77)`` for a run made in parts, else ``""``."""
    parts = record.get("parts", [])
    if len(parts) < 2:
        return ""
    first, *rest = parts
    walls = [f"{format_duration(first['wall_time_s'])} with {first['jobs']} jobs"]
    walls += [f"{format_duration(part['wall_time_s'])} with {part['jobs']}" for part in rest]
    return f" in {len(parts)} parts ({', '.join(walls)})"


def _compile_seconds(record: Mapping[str, Any]) -> float:
    """A training job's compilation time from its record (0 for other jobs)."""
    timing = (record.get("result") or {}).get("timing") or {}
    return float(timing.get("compile_s", 0.0))


def _by_stage(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["stage"], []).append(record)
    return groups


def _intervals(records: Iterable[Mapping[str, Any]]) -> list[tuple[dt.datetime, dt.datetime]]:
    intervals = []
    for record in records:
        start = dt.datetime.strptime(record["started"], _TIME_FORMAT)
        intervals.append((start, start + dt.timedelta(seconds=record["wall_time_s"])))
    return intervals


def _union(
    intervals: Iterable[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The disjoint stretches covered by at least one interval, in time order."""
    stretches: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(intervals):
        if stretches and start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(end, stretches[-1][1]))
        else:
            stretches.append((start, end))
    return stretches


def _union_length(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> float:
    """Seconds covered by at least one interval."""
    return sum((end - start).total_seconds() for start, end in _union(intervals))


def _parts(intervals: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[dict[str, Any]]:
    """The run's parts: stretches of jobs that no pause of more than ``PART_GAP_S`` interrupts."""
    groups: list[list[tuple[dt.datetime, dt.datetime]]] = []
    for stretch in _union(intervals):
        if groups and (stretch[0] - groups[-1][-1][1]).total_seconds() <= PART_GAP_S:
            groups[-1].append(stretch)
        else:
            groups.append([stretch])
    return [
        {
            "first_started": group[0][0].strftime(_TIME_FORMAT),
            "last_finished": group[-1][1].strftime(_TIME_FORMAT),
            "wall_time_s": round(sum((end - start).total_seconds() for start, end in group), 1),
            "jobs": sum(group[0][0] <= start <= group[-1][1] for start, _ in intervals),
        }
        for group in groups
    ]
