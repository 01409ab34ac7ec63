"""Summary statistics of a Splat simulation against a brute-force recomputation."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from michigan.simulate.stats import gene_moments, splat_summary

N_CELLS, N_GENES, N_STEPS = 240, 40, 4


@pytest.fixture(scope="module")
def toy() -> ad.AnnData:
    rng = np.random.default_rng(0)
    path = np.repeat(["Path1", "Path2"], N_CELLS // 2)
    step = np.tile(np.arange(1, N_STEPS + 1), N_CELLS // N_STEPS)
    de = np.ones((2, N_GENES))
    de[0, :10] = np.exp(rng.choice([-1.5, 1.5], 10))  # strong DE on path 1
    de[1, 10:15] = 1.2  # weak DE on path 2
    base = rng.gamma(0.6, 1 / 0.03, N_GENES)  # some genes above mean 10, some near 0
    base[-1] = 0.0  # one gene without counts
    progress = (step - 1) / (N_STEPS - 1)
    factor = 1 + progress[:, None] * (de[(path == "Path2").astype(int)] - 1)
    counts = rng.poisson(base * factor)
    var = pd.DataFrame(
        {
            "OutlierFactor": np.where(np.arange(N_GENES) % 13 == 0, 3.0, 1.0),
            "DEFacPath1": de[0],
            "DEFacPath2": de[1],
            "SigmaFacPath1": 0.0,
            "SigmaFacPath2": np.where(np.arange(N_GENES) < 7, 0.8, 0.0),
        },
        index=[f"Gene{i}" for i in range(N_GENES)],
    )
    obs = pd.DataFrame(
        {
            "Batch": pd.Categorical(np.tile(["Batch1", "Batch2"], N_CELLS // 2)),
            "Group": pd.Categorical(path),
            "ExpLibSize": rng.lognormal(6, 0.2, N_CELLS),
            "Step": step,
        },
        index=[f"Cell{i}" for i in range(N_CELLS)],
    )
    return ad.AnnData(X=sp.csr_matrix(counts), obs=obs, var=var)


def test_gene_moments_match_numpy(toy):
    dense = toy.X.toarray()
    mean, variance = gene_moments(toy.X)
    np.testing.assert_allclose(mean, dense.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(variance, dense.var(axis=0, ddof=1), rtol=1e-9, atol=1e-12)


def test_summary_against_brute_force(toy):
    summary = splat_summary(toy)
    dense = toy.X.toarray().astype(float)
    library = dense.sum(axis=1)
    mean, variance = dense.mean(axis=0), dense.var(axis=0, ddof=1)
    assert summary["zero_fraction"] == pytest.approx((dense == 0).mean(), rel=1e-12)
    assert summary["lib_sd"] == pytest.approx(np.std(library, ddof=1), rel=1e-12)
    assert summary["lib_median"] == np.median(library)
    assert summary["cells_Path1"] == N_CELLS // 2
    assert summary["cells_per_step_min"] == summary["cells_per_step_max"] == N_CELLS // 2 // N_STEPS
    assert summary["gene_mean_q25"] == pytest.approx(np.quantile(mean, 0.25), rel=1e-12)
    assert summary["genes_no_counts"] == (mean == 0).sum() >= 1
    assert summary["outlier_genes"] == 4  # genes 0, 13, 26, 39
    assert summary["de_genes_Path1"] == 10
    assert summary["de_genes_Path2"] == 5
    assert summary["nonlinear_genes_Path2"] == 7
    fit = stats.linregress(np.log10(mean[mean > 0]), np.log10(variance[mean > 0]))
    assert summary["loglog_slope"] == pytest.approx(fit.slope, rel=1e-9)
    assert summary["loglog_intercept"] == pytest.approx(fit.intercept, rel=1e-9)
    in_bin = (mean >= 1) & (mean < 10)
    assert summary["bin2_n"] == in_bin.sum()
    assert summary["bin2_var_over_mean"] == pytest.approx(
        np.median(variance[in_bin] / mean[in_bin])
    )
    assert summary["bin0_n"] == (mean < 0.1).sum()  # genes without counts are counted in bin 0

    normalised = pd.DataFrame(dense / library[:, None] * 1e4)
    r2, cv = [], []
    for path in ("Path1", "Path2"):
        on_path = (toy.obs["Group"] == path).to_numpy()
        profile = normalised[on_path].groupby(toy.obs["Step"].to_numpy()[on_path]).mean()
        log_de = np.log(toy.var[f"DEFac{path}"].to_numpy())
        for g in range(N_GENES):
            if mean[g] > 10 and abs(log_de[g]) > np.log(2):
                r2.append(stats.linregress(profile.index, profile[g]).rvalue ** 2)
            if mean[g] > 10 and log_de[g] == 0:
                cv.append(profile[g].std(ddof=0) / profile[g].mean())
    assert summary["step_r2_median"] == pytest.approx(np.median(r2), rel=1e-9)
    assert summary["step_r2_frac_090"] == pytest.approx(np.mean(np.array(r2) > 0.9))
    assert summary["nonde_profile_cv"] == pytest.approx(np.median(cv), rel=1e-9)
    assert len(r2) >= 3  # the toy data exercises the R^2 branch
