"""The numbers published in the MichiGAN paper (Yu & Welch, Genome Biology 2021), by table.

Each entry is ``(dataset, model, metric) -> value`` in the units our metrics use (RF error as a
fraction, not the paper's percent). Dataset names are the pipeline's dataset identifiers.
"""

from __future__ import annotations

from types import MappingProxyType

LINEAR, NONLINEAR = "simulated/linear", "simulated/nonlinear"
HEART, WHOLE = "tabula_muris/heart", "tabula_muris/whole"


def _table(
    rows: dict[tuple[str, str, str], float],
) -> MappingProxyType[tuple[str, str, str], float]:
    return MappingProxyType(rows)


#: Table 1: disentanglement of the representations on the two Splatter simulations.
TABLE1 = _table(
    {
        (LINEAR, "ppca", "factorvae_score"): 0.36,
        (LINEAR, "vae", "factorvae_score"): 0.39,
        (LINEAR, "btcvae", "factorvae_score"): 0.44,
        (NONLINEAR, "ppca", "factorvae_score"): 0.35,
        (NONLINEAR, "vae", "factorvae_score"): 0.43,
        (NONLINEAR, "btcvae", "factorvae_score"): 0.46,
        (LINEAR, "ppca", "spearman_gap"): 0.68,
        (LINEAR, "vae", "spearman_gap"): 0.43,
        (LINEAR, "btcvae", "spearman_gap"): 0.25,
        (LINEAR, "infowgan_gp", "spearman_gap"): 0.08,
        (NONLINEAR, "ppca", "spearman_gap"): 0.72,
        (NONLINEAR, "vae", "spearman_gap"): 0.24,
        (NONLINEAR, "btcvae", "spearman_gap"): 0.17,
        (NONLINEAR, "infowgan_gp", "spearman_gap"): 0.07,
        (LINEAR, "ppca", "mig"): 0.53,
        (LINEAR, "vae", "mig"): 0.53,
        (LINEAR, "btcvae", "mig"): 0.72,
        (NONLINEAR, "ppca", "mig"): 0.55,
        (NONLINEAR, "vae", "mig"): 0.37,
        (NONLINEAR, "btcvae", "mig"): 0.67,
    }
)

#: Table 2: quality of generated cells on Tabula Muris (RF error as a fraction; inception score).
TABLE2 = _table(
    {
        (HEART, "vae", "rf_error"): 0.172,
        (HEART, "btcvae", "rf_error"): 0.105,
        (HEART, "wgan_gp", "rf_error"): 0.242,
        (WHOLE, "vae", "rf_error"): 0.181,
        (WHOLE, "btcvae", "rf_error"): 0.148,
        (WHOLE, "wgan_gp", "rf_error"): 0.233,
        (WHOLE, "michigan_mean", "rf_error"): 0.216,
        (HEART, "vae", "inception_score"): 1.58,
        (HEART, "btcvae", "inception_score"): 1.49,
        (HEART, "wgan_gp", "inception_score"): 2.01,
        (WHOLE, "vae", "inception_score"): 3.03,
        (WHOLE, "btcvae", "inception_score"): 2.76,
        (WHOLE, "wgan_gp", "inception_score"): 4.39,
        (WHOLE, "michigan_mean", "inception_score"): 2.69,
    }
)

#: Table 3: Spearman correlation gap of the generators' input codes (kNN-inferred factors).
TABLE3 = _table(
    {
        (LINEAR, "wgan_gp", "spearman_gap"): 0.13,
        (LINEAR, "infowgan_gp", "spearman_gap"): 0.08,
        (LINEAR, "btcvae", "spearman_gap"): 0.25,
        (LINEAR, "michigan_mean", "spearman_gap"): 0.22,
        (NONLINEAR, "wgan_gp", "spearman_gap"): 0.07,
        (NONLINEAR, "infowgan_gp", "spearman_gap"): 0.07,
        (NONLINEAR, "btcvae", "spearman_gap"): 0.17,
        (NONLINEAR, "michigan_mean", "spearman_gap"): 0.15,
    }
)

TABLES = MappingProxyType({"table1": TABLE1, "table2": TABLE2, "table3": TABLE3})
