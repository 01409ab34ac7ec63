from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.metrics import (
    LatentCodes,
    evaluate_disentanglement,
    evaluate_generation,
    evaluate_generator_disentanglement,
    evaluate_prediction,
    factor_vae_score,
    gaussian_mig,
    read_codes,
    read_factors,
    rf_error,
    spearman_gap,
)


def assert_records(records: dict, names: set[str]) -> None:
    assert set(records) == names
    for entry in records.values():
        assert set(entry) == {"value", "convention"}
        assert isinstance(entry["value"], float)
        assert np.isfinite(entry["value"])
        assert len(entry["convention"]) > 20  # says how the value was made
    json.dumps(records)  # metrics.json can hold it as it is


def test_disentanglement_family(perfect_code):
    factors, mu, logsigma, z = perfect_code
    records = evaluate_disentanglement(LatentCodes(mu, logsigma, z), factors, seed=3)
    assert_records(
        records,
        {
            "mig_michigan_balanced",
            "mig_michigan_empirical",
            "mig_betatcvae",
            "mig_discrete",
            "factorvae_score",
            "factorvae_michigan_code",
            "spearman_gap",
        },
    )
    # each record is the value of the function it names, with the same settings
    assert records["mig_michigan_empirical"]["value"] == gaussian_mig(
        z, mu, logsigma, factors, convention="michigan_empirical", seed=3
    )
    assert records["factorvae_score"]["value"] == factor_vae_score(mu, factors, seed=3)
    assert records["spearman_gap"]["value"] == spearman_gap(mu, factors)
    assert "N_l/N" in records["mig_michigan_balanced"]["convention"]
    # without a posterior only the mean-based metrics are recorded
    means_only = evaluate_disentanglement(
        LatentCodes(mu), factors, seed=3, michigan_code_factor_vae=False
    )
    assert set(means_only) == {"mig_discrete", "factorvae_score", "spearman_gap"}


def test_original_factor_vae_is_skipped_with_a_reason_on_small_levels(perfect_code):
    factors, mu, logsigma, z = perfect_code
    # 90 random cells: the 4-level factor then has levels of fewer than the 40 cells a vote draws
    keep = np.random.default_rng(1).choice(len(mu), 90, replace=False)
    records = evaluate_disentanglement(
        LatentCodes(mu[keep], logsigma[keep], z[keep]), factors[keep], seed=3, factor_vae_n_var=90
    )
    entry = records["factorvae_michigan_code"]
    assert entry["value"] is None
    assert entry["convention"].startswith("not computed: a factor level has only")
    json.dumps(records)


def test_generator_disentanglement_family(perfect_code):
    factors, mu, _, _ = perfect_code
    rng = np.random.default_rng(0)
    pick = rng.choice(len(mu), 300, replace=False)
    fake = mu[pick] + 0.01 * rng.standard_normal((300, mu.shape[1]))
    records = evaluate_generator_disentanglement(
        factors[pick].astype(float), fake, mu, factors, n_pcs=None
    )
    assert_records(records, {"spearman_gap"})
    # inputs equal to the factors of cells copied from real ones: every factor is recovered
    assert records["spearman_gap"]["value"] == pytest.approx(
        spearman_gap(factors[pick].astype(float), factors[pick]), abs=1e-12
    )


def test_generation_family():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 60)
    real = rng.standard_normal((120, 12)) + 3.0 * labels[:, None]
    fake = rng.standard_normal((90, 12)) + 3.0 * np.repeat([0, 1], 45)[:, None]
    records = evaluate_generation(
        real, fake, real_labels=labels, seed=0, n_cells=50, n_pcs=4, n_estimators=10, n_splits=5
    )
    assert_records(
        records,
        {
            "rf_error",
            "rf_auc",
            "rf_error_pca_real",
            "rf_auc_pca_real",
            "inception_score",
            "inception_score_std",
            "inception_score_real_heldout",
        },
    )
    assert "50 real + 50 generated" in records["rf_error"]["convention"]
    assert 1.0 <= records["inception_score"]["value"] <= 2.0  # two classes
    without_labels = evaluate_generation(
        real, fake, seed=0, n_cells=50, n_pcs=4, n_estimators=10, original_pca=False
    )
    assert set(without_labels) == {"rf_error", "rf_auc"}


def test_prediction_family():
    rng = np.random.default_rng(2)
    control = rng.standard_normal((60, 15))
    effect = np.zeros(15)
    effect[:4] = 2.0
    real = rng.standard_normal((50, 15)) + effect
    pred = rng.standard_normal((50, 15)) + 0.9 * effect
    mu = rng.standard_normal((50, 3))
    logsigma = np.full((50, 3), -1.0)
    z_real = mu + np.exp(logsigma) * rng.standard_normal((50, 3))
    z_fake = mu[rng.permutation(50)] + np.exp(logsigma) * rng.standard_normal((50, 3))
    records = evaluate_prediction(
        control,
        real,
        pred,
        de_genes=np.arange(4),
        latent=(z_fake, z_real, mu, logsigma),
        n_pcs=5,
        n_estimators=10,
    )
    r2_names = {
        f"r2_{stat}_{kind}{genes}{source}"
        for stat, kind in [("mean", "scgen"), ("mean", "cpa"), ("var", "cpa")]
        for genes in ("", "_de")
        for source in ("", "_control")
    }
    assert_records(
        records,
        r2_names
        | {
            "edistance",
            "edistance_control",
            "mmd",
            "mmd_control",
            "rf_error",
            "rf_auc",
            "delta_h",
            "delta_h_leave_own_out",
        },
    )
    # the prediction carries 90% of the effect, the control none of it
    assert records["r2_mean_cpa_de"]["value"] > records["r2_mean_cpa_de_control"]["value"]
    assert records["edistance"]["value"] < records["edistance_control"]["value"]
    expected_rf = rf_error(real, pred, n_pcs=5, n_estimators=10, seed=0)
    assert records["rf_error"]["value"] == expected_rf.error


def test_read_codes_and_factors():
    rng = np.random.default_rng(3)
    n = 30
    obs = pd.DataFrame(
        {
            keys.BATCH: pd.Categorical(rng.choice(["b2", "b1"], n)),
            keys.PATH: rng.integers(0, 3, n),
            keys.STEP: rng.integers(0, 5, n),
            keys.LIBRARY_SIZE_QUARTILE: rng.integers(0, 4, n),
        },
        index=[f"c{i}" for i in range(n)],
    )
    adata = ad.AnnData(np.zeros((n, 2)), obs=obs)
    mean = rng.standard_normal((n, 4))
    adata.obsm[keys.CODE_MEAN] = mean
    codes = read_codes(adata)
    np.testing.assert_array_equal(codes.mean, mean)
    assert codes.logsigma is None
    assert codes.sample is None
    adata.obsm[keys.CODE_LOGSIGMA] = np.zeros((n, 4))
    adata.obsm[keys.CODE_SAMPLE] = mean
    assert read_codes(adata).logsigma is not None
    factors = read_factors(adata)
    assert factors.shape == (n, 4)
    # levels are coded in sorted order: "b1" -> 0, "b2" -> 1
    np.testing.assert_array_equal(factors[:, 0], (obs[keys.BATCH] == "b2").to_numpy())
    np.testing.assert_array_equal(factors[:, 2], obs[keys.STEP].to_numpy())
    with pytest.raises(KeyError, match="X_code_mean"):
        read_codes(ad.AnnData(np.zeros((n, 2))))
    with pytest.raises(KeyError, match="lacks the factor column"):
        read_factors(adata, factor_keys=("batch", "donor"))
    adata.obs[keys.STEP] = adata.obs[keys.STEP].astype(float)
    adata.obs.iloc[0, 2] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        read_factors(adata)
