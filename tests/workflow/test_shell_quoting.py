"""Config values reach the rules' shell commands quoted: obs column names with shell syntax, spaces
and quotes arrive at the CLI as one literal word and run nothing (issue 12, item 1)."""

from __future__ import annotations

import shlex
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import yaml

from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[2]
INJECTION = "batch$(touch PWNED)"
AWKWARD = 'cell type\'s "group"'
CELL_TYPE = "type`touch PWNED_TOO`; touch PWNED_THREE"
RUN = "results/h5ad/mine/all/seed0"


def user_config(workdir: Path) -> Path:
    """A config with one user dataset whose factor and cell type columns are hostile names."""
    (workdir / "cells.h5ad").write_bytes(b"")  # only its existence matters for a dry run
    config = {
        "seeds": [0],
        "h5ad": {
            "datasets": {
                "mine": {
                    "path": str(workdir / "cells.h5ad"),
                    "factor_keys": [INJECTION, AWKWARD],
                    "cell_type_key": CELL_TYPE,
                }
            }
        },
        "representation": {"models": ["btcvae"]},
        "evaluation": {
            "mig_max_cells": 60,
            "factor_vae_n_train": 40,
            "factor_vae_n_eval": 20,
            "factor_vae_n_var": 40,
            "factor_vae_batch_size": 8,
        },
    }
    path = workdir / "user.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def shell_commands(output: str) -> list[list[str]]:
    """The `python -m michigan ...` commands of a --printshellcmds dry run, split as a shell would."""
    commands = []
    for line in output.splitlines():
        if "python -m michigan" in line:
            words = shlex.split(line)
            commands.append(words[words.index("python") :])
    return commands


def test_hostile_column_names_are_single_quoted_words_in_every_command(tmp_path):
    targets = [
        f"{RUN}/btcvae/disentanglement.json",
        f"{RUN}/figures/code_factor_bars.png",
        "results/h5ad/mine/figures/umap_factors.png",
        f"{RUN}/btcvae/generation.json",
    ]
    result = snakemake(
        tmp_path,
        *targets,
        "--dry-run",
        "--printshellcmds",
        "--configfile",
        str(user_config(tmp_path)),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    commands = {words[3]: words for words in shell_commands(result.stdout)}
    for stage in ("evaluate-disentanglement", "plot-code-factors"):
        words = commands[stage]
        start = words.index("--factors") + 1
        assert words[start : start + 2] == [INJECTION, AWKWARD]
    colors = commands["fit-umap"]
    start = colors.index("--colors") + 1
    assert colors[start : start + 3] == [INJECTION, AWKWARD, CELL_TYPE]
    assert not list(tmp_path.glob("PWNED*"))


@pytest.mark.slow
def test_a_rule_run_with_hostile_factor_names_runs_nothing_and_reads_the_columns(tmp_path):
    """One real job: the disentanglement metrics of codes whose factor columns have hostile names."""
    rng = np.random.default_rng(0)
    n_cells = 60
    obs = pd.DataFrame(
        {
            INJECTION: pd.Categorical(rng.integers(0, 2, n_cells).astype(str)),
            AWKWARD: pd.Categorical(rng.integers(0, 3, n_cells).astype(str)),
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    codes = ad.AnnData(np.zeros((n_cells, 1), dtype=np.float32), obs=obs)
    codes.obsm["X_code_mean"] = rng.standard_normal((n_cells, 3))
    path = tmp_path / RUN / "btcvae" / "codes.h5ad"
    path.parent.mkdir(parents=True)
    codes.write_h5ad(path)
    config = user_config(tmp_path)
    result = snakemake(
        tmp_path,
        f"{RUN}/btcvae/disentanglement.json",
        "--cores",
        "1",
        "--allowed-rules",
        "evaluate_disentanglement",
        "--configfile",
        str(config),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / RUN / "btcvae" / "disentanglement.json").is_file()
    assert not list(tmp_path.glob("PWNED*"))
