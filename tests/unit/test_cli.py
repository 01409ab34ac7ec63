"""The command line: one documented subcommand per stage, clear errors, run.json beside outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from michigan.cli import build_parser, main
from michigan.stages import STAGES

PIPELINE_STAGES = {
    "simulate",
    "simulate-screen",
    "download",
    "tabula-muris",
    "sciplex",
    "import-h5ad",
    "preprocess",
    "subset",
    "train-representation",
    "encode",
    "train-generator",
    "generate",
    "evaluate-disentanglement",
    "evaluate-generator-disentanglement",
    "evaluate-generation",
    "table",
}


def test_top_level_help_lists_every_stage():
    result = subprocess.run(
        [sys.executable, "-m", "michigan", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for name in PIPELINE_STAGES:
        assert name in result.stdout
    assert set(STAGES) >= PIPELINE_STAGES


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_documents_every_option(name, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([name, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    stage_parser = parser._subparsers._group_actions[0].choices[name]
    for action in stage_parser._actions:
        assert action.help, f"{name} {action.option_strings} has no help text"
        for flag in action.option_strings:
            assert flag in text


def test_bad_params_json_fails_with_exit_code_2(tmp_path, caplog):
    code = main(
        [
            "preprocess",
            "--params",
            "{not json",
            "--input",
            "x",
            "--output",
            str(tmp_path / "o.h5ad"),
        ]
    )
    assert code == 2
    assert "--params is not valid JSON" in caplog.text


def test_an_invalid_section_value_names_the_key(tmp_path, caplog):
    code = main(
        [
            "preprocess",
            "--params",
            '{"min_genes": -1}',
            "--input",
            "x",
            "--output",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "preprocess.min_genes" in caplog.text


def test_a_missing_input_fails_before_any_work(tmp_path, caplog):
    missing = tmp_path / "missing.h5ad"
    code = main(
        ["preprocess", "--params", "{}", "--input", str(missing), "--output", str(tmp_path / "o")]
    )
    assert code == 2
    assert f"input 'counts' not found: {missing}" in caplog.text
    assert not (tmp_path / "o.run.json").exists()


def test_a_stage_writes_its_output_and_a_complete_run_record(tmp_path):
    metrics = tmp_path / "results/simulated/linear/all/seed0/btcvae/disentanglement.json"
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps({"mig_michigan_balanced": {"value": 0.7, "convention": "c"}}))
    output = tmp_path / "tables/table1.tsv"
    code = main(
        [
            "table",
            "--metrics",
            str(metrics),
            "--table",
            "table1",
            "--output",
            str(output),
            "--markdown",
            str(tmp_path / "tables/table1.md"),
        ]
    )
    assert code == 0
    assert "0.7" in output.read_text()
    record = json.loads((tmp_path / "tables/table1.run.json").read_text())
    assert record["stage"] == "table"
    assert record["outputs"]["table"] == str(output)
    assert record["wall_time_s"] > 0
    assert record["versions"]["numpy"]
    assert record["result"] == {"paper_values_with_ours": 1}


def test_a_section_can_come_from_config_files_with_dataset_overrides(tmp_path):
    from michigan.cli import _load_params

    config = tmp_path / "c.yaml"
    config.write_text("representation: {beta: 5, by_dataset: {screen: {beta: 1}}}\n")
    args = build_parser().parse_args(
        [
            "train-representation",
            "--config",
            str(config),
            "--dataset",
            "screen",
            "--seed",
            "0",
            "--input",
            "x",
            "--model",
            "btcvae",
            "--output",
            "o",
        ]
    )
    section, as_dict = _load_params(args, STAGES["train-representation"])
    assert section.beta == 1
    assert as_dict["beta"] == 1
