"""Factors read from obs: continuous columns in quantile bins, IDs and single values refused (issue 12)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from michigan.metrics import factor_vae_score, read_factors
from michigan.metrics.factors import FACTOR_BINS, factor_codes

N = 400


def cells(**columns) -> ad.AnnData:
    return ad.AnnData(
        np.zeros((N, 1)), obs=pd.DataFrame(columns, index=[f"c{i}" for i in range(N)])
    )


def test_a_continuous_column_is_cut_into_equal_frequency_bins():
    rng = np.random.default_rng(0)
    library_size = rng.lognormal(8.0, 1.0, N)
    library_size[0] = 1e9  # an outlier does not empty the other bins, as equal-width bins would
    codes = read_factors(cells(ExpLibSize=library_size), factor_keys=["ExpLibSize"])[:, 0]
    assert np.bincount(codes).tolist() == [N // FACTOR_BINS] * FACTOR_BINS
    # bins follow the values: every cell of a higher bin has a larger library size
    assert all(
        library_size[codes == b].max() < library_size[codes == b + 1].min()
        for b in range(FACTOR_BINS - 1)
    )


def test_few_distinct_values_stay_levels():
    steps = np.tile(np.arange(1, FACTOR_BINS + 1), N // FACTOR_BINS)
    batch = pd.Categorical(np.repeat(["Batch1", "Batch2"], N // 2))
    codes = read_factors(cells(step=steps, batch=batch), factor_keys=["step", "batch"])
    np.testing.assert_array_equal(codes[:, 0], steps - 1)
    np.testing.assert_array_equal(codes[:, 1], np.repeat([0, 1], N // 2))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            [f"cell{i}" for i in range(N)],
            r"codes\.h5ad obs\['barcode'\] gives every one of its 400 cells its own value",
        ),
        (
            np.arange(N) + 1000,
            r"obs\['barcode'\] gives every one of its 400 cells its own value.*like a cell ID",
        ),
        (np.full(N, "liver"), r"codes\.h5ad obs\['barcode'\] has a single value \('liver'\)"),
        (np.r_[np.nan, np.ones(N - 1)], r"obs\['barcode'\] has 1 missing values"),
    ],
)
def test_ids_single_values_and_gaps_are_refused_naming_the_column(values, message):
    with pytest.raises(ValueError, match=message):
        read_factors(cells(barcode=values), factor_keys=["barcode"], source="codes.h5ad")


def test_a_code_of_pure_noise_no_longer_scores_high_against_a_continuous_factor():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((N, 10))  # the code knows nothing
    adata = cells(batch=np.repeat(["a", "b"], N // 2), library_size=rng.lognormal(8.0, 1.0, N))
    kwargs = {"seed": 0, "n_train": 2000, "n_eval": 1000, "n_var": N}
    # one level per value (the old reading): every vote on the library size fixes one cell, its
    # 64 copies have (almost) zero variance in every latent, and the noise scores high (0.81)
    per_value = np.column_stack([pd.factorize(adata.obs[k], sort=True)[0] for k in adata.obs])
    assert factor_vae_score(noise, per_value, **kwargs) > 0.75
    # in quantile bins, the noise scores near chance for two factors (0.54)
    binned = read_factors(adata, factor_keys=["batch", "library_size"])
    assert factor_vae_score(noise, binned, **kwargs) < 0.6


def test_factor_codes_of_a_boolean_column_are_levels():
    flags = pd.Series(np.tile([True, False], N // 2))
    np.testing.assert_array_equal(factor_codes(flags, name="flag"), np.tile([1, 0], N // 2))
