"""The documented examples run: a page's ``python`` code blocks are executed in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def run_page(name: str, blocks: slice = slice(None)) -> dict:
    """Execute the page's python blocks (those selected) in the working directory; the namespace."""
    namespace: dict = {}
    for number, code in enumerate(BLOCK.findall((DOCS / name).read_text())[blocks], start=1):
        exec(compile(code, f"{name} block {number}", "exec"), namespace)
    return namespace


def test_the_api_page_has_code_blocks():
    assert len(BLOCK.findall((DOCS / "api.md").read_text())) >= 5


@pytest.mark.slow
def test_the_api_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the page saves a model to ./btcvae/
    namespace = run_page("api.md")
    assert (tmp_path / "btcvae" / "model.json").is_file()
    assert namespace["fake"].n_obs == namespace["adata"].n_obs
    assert set(namespace["pred"].obs["control_cell_type"]) == {"CellType2", "CellType3"}
    assert 0 <= namespace["scores"].loc["mig_discrete", "value"] <= 1


@pytest.mark.slow
def test_the_entry_points_example_of_the_models_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = run_page("models.md", slice(1, None))  # the first block is the API sketch
    assert namespace["fake"].x.shape == (100, 12)
    assert len(namespace["history"]["epoch"]) == 2
