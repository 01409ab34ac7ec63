"""A user's own AnnData file, written the way scanpy users write one, through every stage to metrics.

The file holds what other software leaves in it: raw counts in ``layers["counts"]``, ``X``
log-normalised by scanpy, categorical obs columns of its own (``cell_ontology_class``,
``treatment``), a continuous ``total_counts``, gene symbols as the var index, Ensembl IDs in var,
a PCA in obsm and scanpy's uns entries. It goes through ``michigan import-h5ad`` (from a config
file, as a user runs it), ``preprocess``, a tiny beta-TCVAE and MichiGAN, ``encode``, ``generate``
and the evaluation stages. Before issue 12 the import failed on every such file.
"""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp
import yaml

from michigan import keys
from michigan.cli import main

CELL_TYPES = ("T cell", "B cell", "classical monocyte")
TREATMENTS = ("DMSO", "dexamethasone")
CELLS_PER_CONDITION = 20
SYMBOLS = ["CD3E", "CD19", "MS4A1", "LYZ", "CD14", "HLA-DRA", "MT-CO1", "RP11-34P13.3", "ACTB"]
N_GENES = 80
LATENT_DIM = 2


def user_anndata(seed: int = 0) -> ad.AnnData:
    """120 cells x 80 genes of negative-binomial counts, stored like a scanpy user's file."""
    rng = np.random.default_rng(seed)
    conditions = [(ct, tr) for ct in CELL_TYPES for tr in TREATMENTS]
    n_cells = len(conditions) * CELLS_PER_CONDITION
    labels = np.repeat(np.arange(len(conditions)), CELLS_PER_CONDITION)
    base = rng.gamma(2.0, 2.0, N_GENES)
    effects = rng.lognormal(0.0, 0.8, (len(conditions), N_GENES))
    mean = base * effects[labels] * rng.lognormal(0.0, 0.3, (n_cells, 1))
    counts = rng.negative_binomial(5, 5 / (5 + mean)).astype(np.int64)
    obs = pd.DataFrame(
        {
            "cell_ontology_class": pd.Categorical([conditions[i][0] for i in labels]),
            "treatment": pd.Categorical([conditions[i][1] for i in labels]),
        },
        index=[f"AAACCTGAG{i:06d}-1" for i in range(n_cells)],
    )
    symbols = SYMBOLS + [f"LINC{i:05d}" for i in range(N_GENES - len(SYMBOLS))]
    var = pd.DataFrame({"gene_ids": [f"ENSG{i:011d}" for i in range(N_GENES)]}, index=symbols)
    adata = ad.AnnData(X=sp.csr_matrix(counts), obs=obs, var=var)
    adata.layers["counts"] = adata.X.copy()
    adata.obs["total_counts"] = counts.sum(axis=1).astype(np.float64) + rng.random(n_cells)
    adata.X = adata.X.astype(np.float32)
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.pca(adata, n_comps=5)
    return adata


def run(*argv: object) -> None:
    """``michigan <argv>`` through the console script's entry point, in this process; must succeed."""
    assert main([str(a) for a in argv]) == 0, argv[0]


def params(**section: object) -> str:
    return json.dumps(section)


PREPROCESS = params(min_genes=5, min_cells=3, n_top_genes=40, scale=True)
REPRESENTATION = params(
    latent_dim=LATENT_DIM,
    encoder_hidden=[16],
    decoder_hidden=[16],
    epochs=3,
    batch_size=16,
    checkpoint_every=3,
)
GENERATOR = params(
    noise_dim=2,
    generator_hidden=[16],
    critic_hidden=[16, LATENT_DIM],
    epochs=2,
    batch_size=16,
    n_critic=1,
    checkpoint_every=2,
)
EVALUATION = params(
    factor_vae_n_train=200,
    factor_vae_n_eval=100,
    factor_vae_n_var=120,
    n_cells=60,
    n_pcs=5,
    rf_trees=20,
    rf_folds=2,
    is_splits=2,
)


@pytest.fixture(scope="module")
def user_file(tmp_path_factory) -> tuple[Path, Path, ad.AnnData]:
    """The user's file and a config naming it, as a user writes them."""
    folder = tmp_path_factory.mktemp("own")
    adata = user_anndata()
    path = folder / "my cells.h5ad"
    adata.write_h5ad(path)
    config = folder / "config.yaml"
    dataset = {
        "path": str(path),
        "counts_layer": "counts",
        "factor_keys": ["cell_ontology_class", "treatment", "total_counts"],
        "cell_type_key": "cell_ontology_class",
        "drug_key": "treatment",
    }
    config.write_text(yaml.safe_dump({"h5ad": {"datasets": {"mine": dataset}}}))
    return path, config, adata


@pytest.mark.slow
def test_own_file_from_import_to_metrics_and_generated_cells(user_file, tmp_path):
    path, config, original = user_file
    counts = tmp_path / "counts.h5ad"
    run("import-h5ad", "--config", config, "--name", "mine", "--output", counts)
    imported = ad.read_h5ad(counts)
    np.testing.assert_array_equal(imported.X.toarray(), original.layers["counts"].toarray())
    assert list(imported.var_names) == list(original.var_names)
    assert imported.obs[keys.CONDITION].value_counts().to_dict() == {
        f"{ct}-{tr}": CELLS_PER_CONDITION for ct in CELL_TYPES for tr in TREATMENTS
    }
    record = json.loads((tmp_path / "counts.run.json").read_text())
    assert record["config"]["datasets"]["mine"]["path"] == str(path)
    assert record["result"]["n_cells"] == original.n_obs

    data = tmp_path / "preprocessed.h5ad"
    run("preprocess", "--params", PREPROCESS, "--input", counts, "--output", data)
    preprocessed = ad.read_h5ad(data)
    assert preprocessed.n_vars == 40
    assert np.isfinite(preprocessed.X).all()
    assert preprocessed.uns[keys.PREPROCESSING]["normalised_input"] is False

    seed = ("--seed", 0)
    representation, codes = tmp_path / "btcvae", tmp_path / "codes.h5ad"
    run("train-representation", "--params", REPRESENTATION, *seed, "--input", data,
        "--model", "btcvae", "--output", representation)  # fmt: skip
    run("encode", *seed, "--input", data, "--model-dir", representation, "--output", codes)
    generator, generated = tmp_path / "michigan", tmp_path / "generated.h5ad"
    run("train-generator", "--params", GENERATOR, *seed, "--input", data, "--model", "michigan",
        "--codes", codes, "--code-mode", "mean", "--output", generator)  # fmt: skip
    run("generate", *seed, "--input", data, "--model-dir", generator, "--codes", codes,
        "--code-mode", "mean", "--output", generated)  # fmt: skip
    cells = ad.read_h5ad(generated)
    assert cells.shape == preprocessed.shape
    assert np.isfinite(cells.X).all()
    assert cells.obsm[keys.GENERATOR_CODE].shape == (preprocessed.n_obs, LATENT_DIM)

    factors = ("--factors", "cell_ontology_class", "treatment", "total_counts")
    disentanglement, generation = tmp_path / "disentanglement.json", tmp_path / "generation.json"
    run("evaluate-disentanglement", "--params", EVALUATION, *seed, "--codes", codes, *factors,
        "--output", disentanglement)  # fmt: skip
    run("evaluate-generation", "--params", EVALUATION, *seed, "--generated", generated,
        "--real", data, "--labels", "cell_ontology_class", "--output", generation)  # fmt: skip
    scores = json.loads(disentanglement.read_text())
    for name in ("mig_discrete", "factorvae_score", "spearman_gap"):
        assert 0 <= scores[name]["value"] <= 1, name
    quality = json.loads(generation.read_text())
    assert 0 <= quality["rf_error"]["value"] <= 1


def test_declared_normalised_values_are_not_normalised_or_logged_again(user_file, tmp_path):
    path, _, original = user_file
    dataset = {"path": str(path), "normalised": True, "factor_keys": ["cell_ontology_class"]}
    section = params(datasets={"mine": dataset})
    imported, data = tmp_path / "imported.h5ad", tmp_path / "preprocessed.h5ad"
    run("import-h5ad", "--params", section, "--name", "mine", "--output", imported)
    unscaled = params(min_genes=5, min_cells=3, n_top_genes=40, scale=False)
    run("preprocess", "--params", unscaled, "--input", imported, "--output", data)
    out = ad.read_h5ad(data)
    assert out.uns[keys.PREPROCESSING]["normalised_input"] is True
    assert keys.COUNTS_LAYER not in out.layers  # there are no counts to keep
    # X is the user's log-normalised X, restricted to the chosen genes: not logged a second time
    expected = original[out.obs_names, out.var_names].X.toarray()
    np.testing.assert_allclose(out.X.toarray(), expected, rtol=1e-6)
