"""The Python API on a tiny simulated AnnData: training, codes, generation, save/load, predictions."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc

import michigan as mg
from michigan import keys
from michigan.config import ConfigError
from michigan.data.preprocess import PreprocessParams, preprocess
from michigan.io import read_h5ad, write_h5ad
from michigan.simulate import add_ground_truth_factors, splat_paths
from michigan.train.generator import critic_widths

TINY_REP = {"encoder_hidden": [8], "decoder_hidden": [8], "batch_size": 16, "checkpoint_every": 2}
TINY_GEN = {
    "generator_hidden": [8],
    "critic_hidden": [8, 3],
    "noise_dim": 2,
    "batch_size": 16,
    "n_critic": 1,
    "checkpoint_every": 2,
}
PARAMS = PreprocessParams(min_genes=1, min_cells=1, n_top_genes=30)


def counts(cells: int = 60) -> sc.AnnData:
    """Two batches of ``cells`` Splat cells on two paths, 60 genes."""
    raw = splat_paths(seed=1, n_genes=60, batch_cells=[cells, cells], group_prob=[0.5, 0.5])
    add_ground_truth_factors(raw)
    return raw


def simulated(cells: int = 60) -> sc.AnnData:
    """The counts preprocessed; batch and path doubled as cell type and drug."""
    adata = preprocess(counts(cells), params=PARAMS)
    adata.obs["cell_type"] = adata.obs[keys.BATCH].map({"Batch1": "A549", "Batch2": "K562"})
    adata.obs["drug"] = adata.obs[keys.PATH].map({"Path1": "S1628", "Path2": "DMSO"})
    return adata


@pytest.fixture(scope="module")
def adata():
    return simulated()


@pytest.fixture(scope="module")
def rep(adata):
    return mg.BetaTCVAE(adata, latent_dim=3, beta=2, **TINY_REP).train(2, seed=0, progress=False)


@pytest.fixture(scope="module")
def gen(adata, rep):
    model = mg.MichiGAN(adata, representation=rep, codes="sampled", **TINY_GEN)
    return model.train(2, seed=0, progress=False)


def test_the_same_seed_gives_the_same_codes_and_cells(adata, rep, gen):
    again = mg.BetaTCVAE(adata, latent_dim=3, beta=2, **TINY_REP).train(2, seed=0, progress=False)
    np.testing.assert_array_equal(
        rep.get_latent_representation(adata), again.get_latent_representation(adata)
    )
    draws = rep.get_latent_representation(adata, kind="sample", seed=5)
    np.testing.assert_array_equal(draws, rep.get_latent_representation(kind="sample", seed=5))
    assert not np.array_equal(draws, rep.get_latent_representation(kind="sample", seed=6))
    np.testing.assert_array_equal(gen.generate(adata, seed=3).X, gen.generate(adata, seed=3).X)
    assert not np.array_equal(gen.generate(adata, seed=3).X, gen.generate(adata, seed=4).X)


def test_save_and_load_round_trip(adata, rep, gen, tmp_path):
    rep.save(tmp_path / "rep")
    gen.save(tmp_path / "gen")
    rep2 = mg.BetaTCVAE.load(tmp_path / "rep", adata)
    gen2 = mg.Model.load(tmp_path / "gen", adata, representation=rep2)
    assert type(gen2) is mg.MichiGAN
    assert gen2.codes == "sampled"
    assert gen2.seed == 0
    np.testing.assert_array_equal(
        rep.get_latent_representation(adata), rep2.get_latent_representation(adata)
    )
    np.testing.assert_array_equal(gen.generate(adata, seed=1).X, gen2.generate(adata, seed=1).X)
    assert rep2.config == rep.config
    assert len(rep2.history) == 2


def test_load_refuses_other_genes_and_other_models(adata, rep, tmp_path):
    rep.save(tmp_path / "rep")
    with pytest.raises(ValueError, match="var_names\\[0\\]"):
        mg.BetaTCVAE.load(tmp_path / "rep", adata[:, ::-1])
    with pytest.raises(ValueError, match="'btcvae' model, not a VAE"):
        mg.VAE.load(tmp_path / "rep", adata)


def test_hyperparameters_are_the_config_keys_with_its_defaults(adata, rep):
    assert "beta" in mg.BetaTCVAE.hyperparameters()
    assert mg.BetaTCVAE(adata).config.epochs == 1000  # the schema's default
    with pytest.raises(ConfigError, match="'betta'"):
        mg.BetaTCVAE(adata, betta=3)
    with pytest.raises(ConfigError, match="latent_dim"):
        mg.BetaTCVAE(adata, latent_dim=0)
    # the projection critic's last width follows the representation's latent size
    gen = mg.MichiGAN(adata, representation=rep, codes="mean")
    assert critic_widths(gen.config, rep.latent_dim)[-1] == 3
    with pytest.raises(ValueError, match="critic_hidden"):
        mg.MichiGAN(adata, representation=rep, codes="mean", critic_hidden=[8, 10])


def test_conditioning_is_checked_when_the_generator_is_built(adata, rep):
    with pytest.raises(ValueError, match="codes='mean' or 'sampled'"):
        mg.CWGANGP(adata, representation=rep)
    with pytest.raises(ValueError, match="unconditional"):
        mg.WGANGP(adata, representation=rep)
    with pytest.raises(RuntimeError, match="not trained"):
        mg.MichiGAN(adata, representation=mg.VAE(adata), codes="mean")


def test_a_generated_anndata_carries_labels_scaling_and_provenance(adata, gen, tmp_path):
    fake = gen.generate(adata, seed=0)
    assert list(fake.var_names) == list(adata.var_names)
    assert fake.obs["generated"].all()
    assert list(fake.obs["cell_type"]) == list(adata.obs["cell_type"])
    np.testing.assert_array_equal(fake.var["std"], adata.var["std"])
    assert fake.obsm[keys.GENERATOR_CODE].shape == (adata.n_obs, 3)
    record = fake.uns["michigan"]
    assert (record["model"], record["seed"], record["codes"]) == ("michigan", 0, "sampled")
    assert record["settings"]["noise_dim"] == 2
    assert "jax" in record["versions"]
    write_h5ad(fake, tmp_path / "fake.h5ad")  # uns and obs survive the file format
    back = read_h5ad(tmp_path / "fake.h5ad")
    assert back.uns["michigan"]["representation"] == "btcvae"


def test_a_representation_generates_noisy_reconstructions(adata, rep):
    fake = rep.generate(adata, seed=0)
    assert list(fake.obs["batch"]) == list(adata.obs["batch"])
    assert fake.obs["generated"].all()
    assert fake.uns["michigan"]["model"] == "btcvae"
    assert keys.GENERATOR_CODE not in fake.obsm
    np.testing.assert_array_equal(fake.X, rep.generate(adata, seed=0).X)


def test_an_unconditional_generator_makes_cells_from_noise(adata):
    wgan = mg.WGANGP(adata, wgan_noise_dim=2, **TINY_GEN).train(2, seed=0, progress=False)
    fake = wgan.generate(adata, seed=0)
    assert fake.n_obs == adata.n_obs
    assert fake.obs_names[0] == "generated0"
    assert list(fake.obs.columns) == ["generated"]


def test_unscale_returns_the_log_normalised_values(adata):
    unscaled = preprocess(
        counts(), params=PreprocessParams(min_genes=1, min_cells=1, n_top_genes=30, scale=False)
    )
    clipped = np.abs(adata.X) >= 10
    np.testing.assert_allclose(
        mg.unscale(adata)[~clipped], unscaled.X.toarray()[~clipped], atol=1e-4
    )
    with pytest.raises(KeyError, match="not scaled"):
        mg.unscale(unscaled)


def test_predict_combination_shifts_every_control(adata, rep, gen):
    pred = mg.predict_combination(
        adata, rep, gen, cell_type="A549", drug="S1628", n_cells=7, seed=0
    )
    assert pred.n_obs == 7
    assert set(pred.obs["control_cell_type"]) == {"K562"}
    assert set(pred.obs["cell_type"]) == {"A549"}
    assert pred.obs["generated"].all()
    again = mg.predict_combination(adata, rep, gen, cell_type="A549", drug="S1628", n_cells=7)
    np.testing.assert_array_equal(pred.X, again.X)
    with pytest.raises(KeyError, match="'celltype'"):
        mg.predict_combination(
            adata, rep, gen, cell_type="A549", drug="S1628", cell_type_key="celltype"
        )


def test_evaluate_disentanglement_scores_codes_in_obsm(adata, rep):
    codes = rep.encode(adata, seed=0)
    adata = adata.copy()
    adata.obsm["z"], adata.obsm["z_ls"], adata.obsm["z_s"] = codes
    scores = mg.evaluate_disentanglement(adata, obsm_key="z", factor_keys=["batch", "path"])
    assert "mig_discrete" in scores.index
    assert "mig_betatcvae" not in scores.index
    full = mg.evaluate_disentanglement(
        adata, obsm_key="z", logsigma_key="z_ls", sample_key="z_s", factor_keys=["batch"]
    )
    assert 0 <= full.loc["mig_betatcvae", "value"] <= 1
    with pytest.raises(TypeError, match="rf_trees"):
        mg.evaluate_disentanglement(adata, obsm_key="z", factor_keys=["batch"], rf_trees=3)


def test_training_shows_a_progress_bar(adata, capsys):
    mg.PPCA(adata, latent_dim=2).train(seed=0)
    mg.VAE(adata, latent_dim=2, **TINY_REP).train(2, seed=0)
    err = capsys.readouterr().err
    assert "vae: 100%" in err
    assert "ppca" not in err  # fitted in one step: no bar


SNIPPET = """
import michigan as mg
rep = mg.BetaTCVAE(adata, layer=None, latent_dim=10, beta=10)   # also mg.VAE, mg.PPCA
rep.train(epochs=200, seed=0)                                    # a progress bar (tqdm.auto), returns self
adata.obsm["X_btcvae"] = rep.get_latent_representation(adata)   # mean codes; kind="sample" draws
rep.save("btcvae/"); rep = mg.BetaTCVAE.load("btcvae/", adata)
gen = mg.MichiGAN(adata, representation=rep, codes="sampled")    # also mg.WGANGP, mg.InfoWGANGP, mg.CWGANGP
gen.train(epochs=100, seed=0)
fake = gen.generate(adata, seed=0)       # AnnData: one generated cell per cell of adata, same var_names
pred = mg.predict_combination(adata, rep, gen, cell_type="A549", drug="S1628",
                              cell_type_key="cell_type", drug_key="drug")   # AnnData of predicted cells
scores = mg.evaluate_disentanglement(adata, obsm_key="X_btcvae", factor_keys=["batch", "path"])
"""


@pytest.mark.slow
def test_the_issue_snippet_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"adata": simulated(cells=150)}  # more cells than the default batch size 128
    exec(SNIPPET, namespace)
    assert namespace["fake"].n_obs == namespace["adata"].n_obs
    assert namespace["pred"].n_obs > 0
    assert "spearman_gap" in namespace["scores"].index
