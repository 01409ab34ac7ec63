"""Decoding each combination's own codes: RF error and dispersion per decoder."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from michigan import keys
from michigan.predict.reconstruction import dispersion, reconstruct_combinations

GENES, LATENT = 20, 4
WEIGHTS = np.random.default_rng(0).normal(size=(LATENT, GENES))


def decode_mean(codes, seed):
    return codes @ WEIGHTS


def decode_matched(codes, seed):
    """The mean plus the cells' own N(0, 1) noise: as spread as the real cells."""
    return codes @ WEIGHTS + np.random.default_rng(seed).standard_normal((len(codes), GENES))


def cells(sizes: dict[tuple[str, str], int]) -> ad.AnnData:
    rng = np.random.default_rng(1)
    labels = [pair for pair, n in sizes.items() for _ in range(n)]
    shift = {pair: rng.normal(scale=3, size=LATENT) for pair in sizes}
    codes = np.array([shift[pair] for pair in labels]) + rng.normal(size=(len(labels), LATENT))
    x = codes @ WEIGHTS + rng.standard_normal((len(labels), GENES))
    adata = ad.AnnData(
        x,
        obs=pd.DataFrame(
            {keys.CELL_TYPE: [c for c, _ in labels], keys.DRUG: [d for _, d in labels]},
            index=[f"cell{i}" for i in range(len(labels))],
        ),
    )
    adata.obsm[keys.CODE_MEAN] = codes
    return adata


def test_noise_matched_decoder_passes_for_real_cells_and_the_mean_does_not():
    adata = cells({("A", "d1"): 120, ("A", "d2"): 120, ("B", "d1"): 120, ("B", "d2"): 6})
    held = (adata.obs[keys.CELL_TYPE] == "B") & (adata.obs[keys.DRUG] == "d1")
    train = ~held.to_numpy()
    table = reconstruct_combinations(
        adata,
        {"mean": decode_mean, "matched": decode_matched},
        train=train,
        code_key=keys.CODE_MEAN,
        n_pcs=10,
        rf_trees=30,
        rf_folds=4,
    )
    # B-d2 has 6 cells, fewer than 2 x 4 folds: left out
    assert sorted(table["condition"].unique()) == ["A-d1", "A-d2", "B-d1"]
    assert set(table["decoder"]) == {"mean", "matched", "real_half"}
    assert table.groupby("condition")["held_out"].first().to_dict() == {
        "A-d1": False,
        "A-d2": False,
        "B-d1": True,
    }
    by_decoder = table.groupby("decoder")[["rf_error", "dispersion"]].median()
    assert by_decoder.loc["matched", "dispersion"] == pytest.approx(1.0, abs=0.1)
    assert by_decoder.loc["mean", "dispersion"] < 0.9
    assert by_decoder.loc["matched", "rf_error"] > 0.3
    assert by_decoder.loc["mean", "rf_error"] < by_decoder.loc["matched", "rf_error"] - 0.1
    assert (table.loc[table["decoder"] == "real_half", "n_cells"] == 60).all()


def test_dispersion_is_the_ratio_of_mean_gene_spreads():
    real = np.array([[0.0, 0.0], [2.0, 4.0]])
    assert dispersion(real, real / 2) == pytest.approx(0.5)
    assert dispersion(real, real + 7) == pytest.approx(1.0)
