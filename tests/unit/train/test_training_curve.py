"""Training curves (Fig. S4): every snapshot generates and is scored like the final model."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from michigan.cli import main
from michigan.config import load_section
from michigan.train import train_generator, train_representation
from michigan.train.curves import snapshot_cells

SMALL = {"batch_size": 8, "epochs": 4, "checkpoint_every": 2, "snapshot_every": 2}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8)).astype(np.float32) + np.repeat([[0.0], [3.0]], 30, axis=0)
    adata = ad.AnnData(x)
    adata.obs_names = [f"c{i}" for i in range(60)]
    adata.obs["cell_type"] = np.repeat(["a", "b"], 30)
    path = tmp_path_factory.mktemp("data") / "preprocessed.h5ad"
    adata.write_h5ad(path)
    return adata, path


@pytest.fixture(scope="module")
def vae_dir(real, tmp_path_factory):
    params = {"latent_dim": 2, "encoder_hidden": [8], "decoder_hidden": [8], **SMALL}
    config = load_section("representation", params=params)
    out = tmp_path_factory.mktemp("vae") / "model"
    return train_representation(real[0].X, config, model="vae", seed=0, out_dir=out)


@pytest.fixture(scope="module")
def wgan_dir(real, tmp_path_factory):
    params = {"generator_hidden": [8], "critic_hidden": [8, 4], "wgan_noise_dim": 4, **SMALL}
    config = load_section("generator", params=params)
    out = tmp_path_factory.mktemp("wgan") / "model"
    return train_generator(real[0].X, config, model="wgan_gp", seed=0, out_dir=out)


# slow tier: trains a VAE and a WGAN-GP with snapshots
@pytest.mark.slow
@pytest.mark.parametrize("model", ["vae_dir", "wgan_dir"])
def test_every_snapshot_generates_cells_like_the_final_model(model, real, request):
    model_dir = request.getfixturevalue(model)
    generated = list(snapshot_cells(model_dir, real[0].X, seed=1))
    assert [epoch for epoch, _ in generated] == [2, 4]
    assert all(cells.shape == real[0].shape and np.isfinite(cells).all() for _, cells in generated)
    # two epochs of training apart: the snapshots generate different cells
    assert not np.array_equal(generated[0][1], generated[1][1])


def test_a_model_without_snapshots_is_an_error(real, tmp_path):
    config = load_section("representation", params={"latent_dim": 2})
    ppca = train_representation(real[0].X, config, model="ppca", seed=0, out_dir=tmp_path / "p")
    with pytest.raises(ValueError, match="holds no snapshots"):
        list(snapshot_cells(ppca, real[0].X, seed=0))


# slow tier: trains a VAE with snapshots
@pytest.mark.slow
def test_training_curve_stage_writes_one_row_per_snapshot_and_metric(vae_dir, real, tmp_path):
    output, figure = tmp_path / "curve.tsv", tmp_path / "curve.png"
    params = '{"rf_trees": 5, "n_cells": 30, "n_pcs": 4}'
    code = main(
        [
            "training-curve",
            "--params",
            params,
            "--seed",
            "0",
            "--model-dir",
            str(vae_dir),
            "--real",
            str(real[1]),
            "--labels",
            "cell_type",
            "--output",
            str(output),
            "--figure",
            str(figure),
        ]
    )
    assert code == 0
    curve = pd.read_csv(output, sep="\t")
    assert sorted(curve["epoch"].unique()) == [2, 4]
    assert {"rf_error", "rf_auc", "inception_score"} <= set(curve["metric"])
    errors = curve.loc[curve["metric"] == "rf_error", "value"]
    assert errors.between(0, 1).all()
    assert figure.stat().st_size > 1000
