"""Disentanglement of codes stored in an AnnData, against ground-truth factors in its ``obs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from michigan import keys
from michigan.api.model import section_config
from michigan.metrics import evaluate
from michigan.metrics.adata import read_codes, read_factors

if TYPE_CHECKING:
    from collections.abc import Sequence

    import anndata as ad

    from michigan.config import EvaluationConfig
    from michigan.metrics.evaluate import MetricEntry

#: the keys of the config's ``evaluation`` section that the disentanglement metrics use
DISENTANGLEMENT_SETTINGS = (
    "mig_max_cells",
    "mig_float64",
    "n_bins",
    "factor_vae_batch_size",
    "factor_vae_n_train",
    "factor_vae_n_eval",
    "factor_vae_n_var",
    "factor_vae_prune",
    "michigan_code_factor_vae",
)


def disentanglement_metrics(
    adata: ad.AnnData,
    *,
    factor_keys: Sequence[str],
    seed: int,
    settings: EvaluationConfig,
    mean_key: str = keys.CODE_MEAN,
    logsigma_key: str | None = keys.CODE_LOGSIGMA,
    sample_key: str | None = keys.CODE_SAMPLE,
    source: str = "adata",
) -> dict[str, MetricEntry]:
    """:func:`michigan.metrics.evaluate_disentanglement` of the codes in ``adata.obsm``.

    The Gaussian MIG needs ``logsigma_key`` and ``sample_key``; without them it is left out.
    ``source`` names ``adata`` in error messages (e.g. its file).
    """
    codes = read_codes(
        adata,
        mean_key=mean_key,
        logsigma_key=logsigma_key,
        sample_key=sample_key,
    )
    return evaluate.evaluate_disentanglement(
        codes,
        read_factors(adata, factor_keys=factor_keys, source=source),
        seed=seed,
        max_cells=settings.mig_max_cells,
        n_bins=settings.n_bins,
        factor_vae_batch_size=settings.factor_vae_batch_size,
        factor_vae_n_train=settings.factor_vae_n_train,
        factor_vae_n_eval=settings.factor_vae_n_eval,
        factor_vae_n_var=settings.factor_vae_n_var,
        factor_vae_prune=settings.factor_vae_prune,
        michigan_code_factor_vae=settings.michigan_code_factor_vae,
        float64=settings.mig_float64,
    )


def evaluate_disentanglement(
    adata: ad.AnnData,
    *,
    obsm_key: str,
    factor_keys: Sequence[str],
    logsigma_key: str | None = None,
    sample_key: str | None = None,
    seed: int = 0,
    **settings: Any,
) -> pd.DataFrame:
    """MIG, FactorVAE score and Spearman gap of the codes ``adata.obsm[obsm_key]`` (paper Table 1).

    Parameters
    ----------
    adata
        Cells with their codes in ``obsm`` and discrete factors in ``obs``.
    obsm_key
        Posterior means ``[cells, K]``, e.g. from ``get_latent_representation``.
    factor_keys
        ``obs`` columns of the ground-truth factors (discrete; bin continuous ones first).
    logsigma_key, sample_key
        ``obsm`` keys of log posterior standard deviations and posterior samples; with both, the
        Gaussian-posterior MIG (three conventions) is added.
    seed
        Seeds the subsamples and FactorVAE votes.
    **settings
        Keys of the config's ``evaluation`` section listed in :data:`DISENTANGLEMENT_SETTINGS`.

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``value`` and the ``convention`` that produced it (docs/metrics.md).
    """
    unknown = sorted(set(settings) - set(DISENTANGLEMENT_SETTINGS))
    if unknown:
        msg = f"unknown setting(s) {unknown}; known: {', '.join(DISENTANGLEMENT_SETTINGS)}"
        raise TypeError(msg)
    metrics = disentanglement_metrics(
        adata,
        factor_keys=factor_keys,
        seed=seed,
        settings=section_config("evaluation", settings),
        mean_key=obsm_key,
        logsigma_key=logsigma_key,
        sample_key=sample_key,
    )
    return pd.DataFrame.from_dict(metrics, orient="index")
