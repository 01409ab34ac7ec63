"""The catalogue is the one list of models, datasets, sources and experiments: the schema, the
CLI and the report agree with it, and the targets follow it (issue 13, item 3)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from michigan import catalogue, targets
from michigan import config as cfg
from michigan.cli import build_parser
from michigan.data.sources import RemoteFile
from michigan.report.collect import parse_metrics_path
from michigan.report.paper import TABLES


def enum(section: str, key: str) -> list[str]:
    schema = cfg.section_schema(section)["properties"][key]
    return schema.get("enum") or schema["items"]["enum"]


def test_schema_enums_list_the_catalogue():
    assert enum("representation", "models") == list(catalogue.models("representation"))
    assert enum("generator", "models") == list(catalogue.models("generator"))
    assert enum("generator", "representation") == list(catalogue.models("representation"))
    assert enum("generator", "codes") == list(catalogue.CODE_MODES)
    assert enum("prediction", "lowdh_codes") == list(catalogue.CODE_MODES)
    experiments = cfg.load_schema()["properties"]["experiments"]["items"]["enum"]
    assert experiments == list(catalogue.EXPERIMENTS)


def choices(stage: str, option: str) -> list[str]:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[stage]  # argparse has no public lookup
    (action,) = [a for a in sub._actions if option in a.option_strings]
    return list(action.choices)


def test_cli_choices_list_the_catalogue():
    assert choices("train-representation", "--model") == list(catalogue.models("representation"))
    assert choices("train-generator", "--model") == list(catalogue.models("generator"))
    assert choices("train-generator", "--code-mode") == list(catalogue.CODE_MODES)
    assert choices("table", "--table") == sorted(TABLES)
    assert choices("download", "--source") == list(catalogue.SOURCES)


def test_paper_values_name_catalogue_datasets_and_runs():
    runs = set(catalogue.run_pattern().split("|"))
    for table in TABLES.values():
        for dataset, run, _ in table:
            assert dataset in catalogue.DATASETS
            assert run in runs


def test_every_dataset_source_resolves_to_described_remote_files():
    used = {name for dataset in catalogue.DATASETS.values() for name in dataset.sources}
    assert used == set(catalogue.SOURCES)
    for name in used:
        source = catalogue.SOURCES[name]
        assert source.name == name
        assert source.files, name
        if source.section is not None:
            local_copies = cfg.section_schema(source.section)["properties"]
            assert set(source.files) <= set(local_copies), name
        for role, entry in source.files.items():
            assert catalogue.remote_file(name, role) is entry
            assert isinstance(entry, RemoteFile)
            assert entry.url.startswith("https://"), entry
            assert entry.provenance, entry
            assert entry.sha256 is None or len(entry.sha256) == 64, entry
            assert entry.size is not None or entry.figshare is not None, entry


def test_remote_file_names_the_known_sources_and_roles():
    assert catalogue.remote_file("sciplex3", "matrix").size == 3_096_224_606
    with pytest.raises(KeyError, match=r"roles are \['cells', 'genes', 'matrix', 'pdata'\]"):
        catalogue.remote_file("sciplex3", "nope")
    with pytest.raises(KeyError, match=r"downloadable sources are \['sciplex3', 'tabula_muris'\]"):
        catalogue.remote_file("nope", "matrix")


def test_a_raw_file_is_the_users_local_copy_else_its_download_target():
    config = {"sciplex": {"matrix": "/data/matrix.gz", "genes": None}}
    assert catalogue.raw_file_path("sciplex3", "matrix", config) == "/data/matrix.gz"
    genes = catalogue.remote_file("sciplex3", "genes").name
    assert catalogue.raw_file_path("sciplex3", "genes", config) == f"resources/sciplex3/{genes}"


def test_a_source_without_a_config_section_is_always_downloaded(monkeypatch):
    files = {"matrix": catalogue.remote_file("sciplex3", "matrix")}
    monkeypatch.setitem(catalogue.SOURCES, "mydata_raw", catalogue.Source("mydata_raw", files))
    config = {"sciplex": {"matrix": "/data/matrix.gz"}}
    path = catalogue.raw_file_path("mydata_raw", "matrix", config)
    assert path == f"resources/mydata_raw/{files['matrix'].name}"


def test_the_catalogue_imports_no_network_or_array_library():
    code = "import sys, michigan.catalogue; print(' '.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = {"http.client", "urllib.request", "numpy", "jax", "anndata"}
    assert not heavy & set(run.stdout.split())


def test_run_names_map_back_to_models():
    assert catalogue.run_model("michigan_sampled").name == "michigan"
    assert catalogue.run_model("wgan_gp").conditional is False
    with pytest.raises(KeyError, match="wgan_gp_mean"):
        catalogue.run_model("wgan_gp_mean")


def test_the_dataset_of_a_results_path():
    assert (
        catalogue.dataset_of_path("/x/results/h5ad/pbmc.v2/all/seed0/vae/model") == "h5ad/pbmc.v2"
    )
    assert catalogue.dataset_of_path("results/tabula_muris/heart/umap/cells.h5ad") == (
        "tabula_muris/heart"
    )
    assert catalogue.dataset_of_path("data/cells.h5ad") is None
    assert (
        parse_metrics_path("results/h5ad/mine/all/seed0/michigan_mean/generation.json")["dataset"]
        == "h5ad/mine"
    )


def user_config(**entry):
    config = {
        "seeds": [0],
        "experiments": ["user_data"],
        "representation": {"models": ["ppca", "btcvae"]},
        "generator": {"models": ["wgan_gp", "michigan"], "codes": ["mean"]},
        "h5ad": {"datasets": {"mine": {"path": "mine.h5ad", **entry}}},
    }
    return cfg.validate(config, cfg.load_schema(), source="test")


def test_user_data_with_factors_gets_metrics_generation_and_figures():
    files = targets.final_targets(user_config(factor_keys=["batch"]))
    run = "results/h5ad/mine/all/seed0"
    expected_metrics = {f"{run}/{m}/disentanglement.json" for m in ("ppca", "btcvae")}
    expected_metrics |= {f"{run}/{m}/disentanglement.json" for m in ("wgan_gp", "michigan_mean")}
    assert expected_metrics <= set(files)
    generation = {f for f in files if f.endswith("generation.json")}
    assert generation == {
        f"{run}/{m}/generation.json" for m in ("btcvae", "wgan_gp", "michigan_mean")
    }
    figures = {
        f"{run}/figures/{n}.png" for n in ("umap_codes", "traversal_umap", "code_factor_bars")
    }
    assert figures | {"results/h5ad/mine/figures/umap_factors.png"} <= set(files)
    assert not [f for f in files if "/prediction/" in f]


def test_user_data_without_factors_skips_the_disentanglement_metrics():
    files = targets.final_targets(user_config())
    assert not [f for f in files if "disentanglement" in f or "code_factor_bars" in f]
    assert [f for f in files if f.endswith("generation.json")]


def test_user_data_with_a_cell_type_drug_and_pairs_gets_the_heldout_prediction():
    config = user_config(cell_type_key="line", drug_key="compound")
    assert not targets.has_heldout_experiment(config, "h5ad/mine")
    config["prediction"]["by_dataset"] = {"h5ad/mine": {"heldout": [["A", "d1"]]}}
    files = targets.final_targets(config)
    assert "results/h5ad/mine/prediction/seed0/statistics.tsv" in files
    assert "results/h5ad/mine/prediction/seed0/fig4c_lowdh.png" in files


def test_user_umap_colours_name_each_column_once():
    config = user_config(factor_keys=["line", "batch"], cell_type_key="line")
    assert targets.umap_colors(config, "h5ad/mine") == ["line", "batch"]
    assert targets.umap_colors(config, "screen") == []
