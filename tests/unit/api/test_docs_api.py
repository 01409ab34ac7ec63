"""docs/api.md runs: its ``python`` code blocks are executed in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[3] / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_page_has_code_blocks():
    assert len(BLOCK.findall(PAGE.read_text())) >= 5


@pytest.mark.slow
def test_the_api_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the page saves a model to ./btcvae/
    namespace: dict = {}
    for number, code in enumerate(BLOCK.findall(PAGE.read_text()), start=1):
        exec(compile(code, f"{PAGE.name} block {number}", "exec"), namespace)
    assert (tmp_path / "btcvae" / "model.json").is_file()
    assert namespace["fake"].n_obs == namespace["adata"].n_obs
    assert set(namespace["pred"].obs["control_cell_type"]) == {"CellType2", "CellType3"}
    assert 0 <= namespace["scores"].loc["mig_discrete", "value"] <= 1
