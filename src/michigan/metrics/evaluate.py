"""Metric families for ``metrics.json``: every value recorded with the convention that made it.

Each family returns ``{name: {"value": float, "convention": str}}``, ready for ``json.dump``.
The convention string names the definition and the settings that change the number, so two
values under the same name are comparable exactly when their conventions are equal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple, TypedDict

import numpy as np
from sklearn.decomposition import PCA

from michigan.metrics.checks import as_float64_matrix, check_same_columns
from michigan.metrics.correlation import infer_factors_knn, spearman_gap
from michigan.metrics.factor_vae import factor_vae_score
from michigan.metrics.generation import rf_error, rf_inception_score
from michigan.metrics.latent_entropy import delta_h
from michigan.metrics.mig import MIG_CONVENTIONS, discrete_mig, gaussian_entropies
from michigan.metrics.perturbation import e_distance, mmd, r2_mean

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)


class MetricEntry(TypedDict):
    """One recorded metric value and the convention that produced it."""

    value: float | None  # None: not computable on these data (the convention says why)
    convention: str


class LatentCodes(NamedTuple):
    """Codes of a representation model for a set of cells, each ``[cells, latents]``.

    ``logsigma`` (log posterior std) and ``sample`` (one posterior sample per cell) are ``None``
    for models without a posterior.
    """

    mean: np.ndarray
    logsigma: np.ndarray | None = None
    sample: np.ndarray | None = None


def _entry(value: float, convention: str) -> MetricEntry:
    return {"value": float(value), "convention": convention}


#: cells per vote of the original code's FactorVAE metric (its L_samples)
_MICHIGAN_VOTE_CELLS = 40

_MIG_CONVENTION_TEXT = {
    "michigan_balanced": "level weights N_l/N, H(v)=log(levels), no clamp (MichiGAN code default)",
    "michigan_empirical": "level weights N_l/N, H(v)=empirical entropy, no clamp (paper text)",
    "betatcvae": "level weights 1/levels, H(v)=log(levels), MI clamped at 0 (beta-tcvae)",
}


def evaluate_disentanglement(
    codes: LatentCodes,
    factors: ArrayLike,
    *,
    seed: int,
    max_cells: int | None = 12_000,
    n_bins: int = 20,
    factor_vae_batch_size: int = 64,
    factor_vae_n_train: int = 10_000,
    factor_vae_n_eval: int = 5_000,
    factor_vae_n_var: int = 10_000,
    factor_vae_prune: float = 0.05,
    michigan_code_factor_vae: bool = True,
    float64: bool = False,
) -> dict[str, MetricEntry]:
    """Disentanglement metrics of an encoder's codes against ground-truth factors (Table 1).

    Parameters
    ----------
    codes
        Codes of the cells: ``mean`` always; ``logsigma`` and ``sample`` for the Gaussian MIG.
    factors
        ``[cells, factors]``: discrete factors (library size as quartiles).
    seed
        Seed of every random draw (MIG subsample, FactorVAE votes).
    max_cells
        Cells for the Gaussian MIG (seeded subsample above it).
    n_bins
        Bins per latent of the histogram MIG.
    factor_vae_batch_size, factor_vae_n_train, factor_vae_n_eval, factor_vae_n_var, factor_vae_prune
        See :func:`michigan.metrics.factor_vae_score`.
    michigan_code_factor_vae
        Also record MichiGAN's as-coded (argmax) FactorVAE metric, for comparison with Table 1.
    float64
        Gaussian MIG log-densities in float64 instead of float32.

    Returns
    -------
    dict
        ``mig_<convention>`` for the three Gaussian conventions (when ``logsigma`` and
        ``sample`` are given), ``mig_discrete``, ``factorvae_score``,
        ``factorvae_michigan_code`` (optional) and ``spearman_gap``, each a :class:`MetricEntry`.
    """
    records: dict[str, MetricEntry] = {}
    if codes.logsigma is not None and codes.sample is not None:
        entropies = gaussian_entropies(
            codes.sample,
            codes.mean,
            codes.logsigma,
            factors,
            max_cells=max_cells,
            seed=seed,
            float64=float64,
        )
        n_used = sum(entropies.level_counts[0])
        for convention in MIG_CONVENTIONS:
            records[f"mig_{convention}"] = _entry(
                entropies.mig(convention),
                f"Gaussian-posterior MIG on one posterior sample per cell, {n_used} cells; "
                f"{_MIG_CONVENTION_TEXT[convention]}",
            )
    records["mig_discrete"] = _entry(
        discrete_mig(codes.mean, factors, n_bins=n_bins),
        f"disentanglement_lib histogram MIG on posterior means, {n_bins} equal-width bins, "
        "all cells",
    )
    records["factorvae_score"] = _entry(
        factor_vae_score(
            codes.mean,
            factors,
            seed=seed,
            batch_size=factor_vae_batch_size,
            n_train=factor_vae_n_train,
            n_eval=factor_vae_n_eval,
            n_var=factor_vae_n_var,
            prune=factor_vae_prune,
        ),
        f"disentanglement_lib FactorVAE eval accuracy on posterior means (argmin of normalised "
        f"variance), batch {factor_vae_batch_size}, {factor_vae_n_train} train / "
        f"{factor_vae_n_eval} eval votes, prune std < {factor_vae_prune}",
    )
    if michigan_code_factor_vae:
        convention = (
            "MichiGAN FactorVAEMetric as coded (ARGMAX of normalised std, a known bug; near "
            f"chance on a perfect code), {_MICHIGAN_VOTE_CELLS} cells per vote, 8000 train / "
            "2000 test votes"
        )
        smallest = min(np.unique(col, return_counts=True)[1].min() for col in np.asarray(factors).T)
        if smallest < _MICHIGAN_VOTE_CELLS:
            # the original draws each vote's cells without replacement from one factor level
            logger.warning("factorvae_michigan_code skipped: a factor level has %d cells", smallest)
            records["factorvae_michigan_code"] = {
                "value": None,
                "convention": f"not computed: a factor level has only {smallest} cells; {convention}",
            }
        else:
            records["factorvae_michigan_code"] = _entry(
                factor_vae_score(
                    codes.mean,
                    factors,
                    seed=seed,
                    variant="michigan_code",
                    batch_size=_MICHIGAN_VOTE_CELLS,
                    n_train=8000,
                    n_eval=2000,
                ),
                convention,
            )
    records["spearman_gap"] = _entry(
        spearman_gap(codes.mean, factors),
        "MichiGAN CorrGap on posterior means: mean over factors of top-1 minus top-2 "
        "|Spearman rho|; undefined correlations count as 0",
    )
    return records


def evaluate_generator_disentanglement(
    input_codes: ArrayLike,
    fake_x: ArrayLike,
    real_x: ArrayLike,
    real_factors: ArrayLike,
    *,
    k: int = 3,
    n_pcs: int | None = 50,
    seed: int = 0,
) -> dict[str, MetricEntry]:
    """Spearman gap of a generator's input codes against kNN-inferred factors (Table 3).

    Parameters
    ----------
    input_codes
        ``[generated cells, codes]``: the code part of the generator's input for each cell.
    fake_x
        ``[generated cells, genes]``.
    real_x
        ``[real cells, genes]``.
    real_factors
        ``[real cells, factors]``.
    k, n_pcs, seed
        See :func:`michigan.metrics.infer_factors_knn`.

    Returns
    -------
    dict
        ``spearman_gap`` as a :class:`MetricEntry`.
    """
    inferred = infer_factors_knn(real_x, real_factors, fake_x, k=k, n_pcs=n_pcs, seed=seed)
    return {
        "spearman_gap": _entry(
            spearman_gap(input_codes, inferred, allow_constant_factors=True),
            f"MichiGAN CorrGap on generator input codes vs factors of generated cells inferred "
            f"by a {k}-NN classifier on "
            + ("the genes" if n_pcs is None else f"{n_pcs} PCs of the real cells")
            + "; a factor inferred as one level for every generated cell adds a gap of 0",
        )
    }


def _subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return x if x.shape[0] == n else x[np.sort(rng.choice(x.shape[0], n, replace=False))]


def evaluate_generation(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    real_labels: ArrayLike | None = None,
    seed: int = 42,
    n_cells: int = 3000,
    n_pcs: int | None = 50,
    n_estimators: int = 1000,
    n_splits: int = 5,
    original_pca: bool = True,
    is_splits: int = 3,
    n_jobs: int | None = None,
) -> dict[str, MetricEntry]:
    """Quality of generated cells: RF error and AUC, and the inception score (Table 2).

    Parameters
    ----------
    real
        ``[real cells, genes]``.
    fake
        ``[generated cells, genes]``.
    real_labels
        ``[real cells]`` cell types; the inception score is recorded only when given.
    seed
        Seed of the subsamples, PCA, permutation and forests.
    n_cells
        Real and generated cells for the RF error (paper: 3,000 each; fewer if fewer exist,
        always the same number of each) and real cells to fit the IS classifier.
    n_pcs, n_estimators, n_splits
        See :func:`michigan.metrics.rf_error`.
    original_pca
        Also record the RF error and AUC with the PCA fitted on real cells only (MichiGAN code).
    is_splits
        Splits of the inception score.
    n_jobs
        Parallel jobs of the forests.

    Returns
    -------
    dict
        ``rf_error``, ``rf_auc`` (pooled PCA), ``rf_error_pca_real``, ``rf_auc_pca_real``
        (optional), ``inception_score``, ``inception_score_std`` and
        ``inception_score_real_heldout`` (with labels; the last only when real cells are left
        over), each a :class:`MetricEntry`.
    """
    real_arr = as_float64_matrix(real, "real")
    fake_arr = as_float64_matrix(fake, "fake")
    check_same_columns(real=real_arr, fake=fake_arr)
    rng = np.random.default_rng(seed)
    n = min(n_cells, real_arr.shape[0], fake_arr.shape[0])
    real_sub, fake_sub = _subsample(real_arr, n, rng), _subsample(fake_arr, n, rng)
    records: dict[str, MetricEntry] = {}
    for pca_fit, suffix in [("pooled", ""), ("real", "_pca_real")][: 2 if original_pca else 1]:
        result = rf_error(
            real_sub,
            fake_sub,
            n_pcs=n_pcs,
            pca_fit=pca_fit,
            n_estimators=n_estimators,
            n_splits=n_splits,
            seed=seed,
            n_jobs=n_jobs,
        )
        setting = (
            f"{n} real + {n} generated cells, PCA({n_pcs}) fitted on "
            f"{'pooled' if pca_fit == 'pooled' else 'real-only (MichiGAN code)'} cells, "
            f"RF {n_estimators} trees, {n_splits} contiguous folds after one seeded permutation"
        )
        records[f"rf_error{suffix}"] = _entry(result.error, f"mean fold error; {setting}")
        records[f"rf_auc{suffix}"] = _entry(result.auc, f"mean fold ROC AUC; {setting}")
    if real_labels is not None:
        score = rf_inception_score(
            real_arr,
            real_labels,
            fake_sub,
            n_train=n_cells,
            n_estimators=n_estimators,
            seed=seed,
            splits=is_splits,
            n_jobs=n_jobs,
        )
        setting = (
            f"MichiGAN preds2score (global marginal, eps 1e-6, guarded log), {is_splits} splits, "
            f"RF {n_estimators} trees on at most {n_cells} real cells"
        )
        records["inception_score"] = _entry(score.mean, f"mean over splits; {setting}")
        records["inception_score_std"] = _entry(score.std, f"std over splits; {setting}")
        if np.isfinite(score.real_mean):
            records["inception_score_real_heldout"] = _entry(
                score.real_mean, f"ceiling: real cells not used to fit the classifier; {setting}"
            )
    return records


def evaluate_prediction(
    control: ArrayLike,
    real: ArrayLike,
    pred: ArrayLike,
    *,
    de_genes: ArrayLike | None = None,
    latent: tuple[ArrayLike, ArrayLike, ArrayLike, ArrayLike] | None = None,
    n_pcs: int = 50,
    seed: int = 0,
    n_estimators: int = 1000,
    n_splits: int = 5,
    n_jobs: int | None = None,
) -> dict[str, MetricEntry]:
    """Quality of a perturbation prediction for one held-out combination (Fig. 4-5).

    Parameters
    ----------
    control
        ``[control cells, genes]``: the control cell type under the held-out drug, or the
        untreated cells of the target type (the baseline "prediction").
    real
        ``[real cells, genes]``: held-out real treated cells.
    pred
        ``[predicted cells, genes]``: predicted cells.
    de_genes
        Indices (or mask) of the top DE genes from real data; adds the ``_de`` R^2 values.
    latent
        ``(z_fake, z_real, mu, logsigma)`` of the latent arithmetic (see
        :func:`michigan.metrics.delta_h`); adds ``delta_h`` and ``delta_h_leave_own_out``.
    n_pcs
        Components of the PCA fitted on ``[control; real]`` for the E-distance and MMD.
    seed
        Seed of that PCA, of the equal-size subsample and of the RF error.
    n_estimators, n_splits, n_jobs
        See :func:`michigan.metrics.rf_error` (real vs predicted cells, pooled PCA).

    Returns
    -------
    dict
        ``r2_<stat>_<kind>[_de]`` for (mean, scgen), (mean, cpa), (var, cpa), the same with
        ``_control`` for the control baseline, ``edistance``, ``edistance_control``,
        ``mmd``, ``mmd_control``, ``rf_error``, ``rf_auc`` and the optional ``delta_h`` values.
    """
    control_arr = as_float64_matrix(control, "control")
    real_arr = as_float64_matrix(real, "real")
    pred_arr = as_float64_matrix(pred, "pred")
    check_same_columns(control=control_arr, real=real_arr, pred=pred_arr)
    records: dict[str, MetricEntry] = {}
    gene_sets = [("", None)] + ([("_de", de_genes)] if de_genes is not None else [])
    for stat, kind in [("mean", "scgen"), ("mean", "cpa"), ("var", "cpa")]:
        for gene_suffix, genes in gene_sets:
            name = f"r2_{stat}_{kind}{gene_suffix}"
            scope = "all genes" if genes is None else f"{np.asarray(genes).size} DE genes"
            text = (
                "squared Pearson r (scGen)"
                if kind == "scgen"
                else "coefficient of determination (CPA)"
            )
            for source, candidate in [("", pred_arr), ("_control", control_arr)]:
                records[name + source] = _entry(
                    r2_mean(real_arr, candidate, kind=kind, stat=stat, genes=genes),
                    f"{text} of per-gene {stat}s, real vs "
                    f"{'predicted' if not source else 'control (baseline)'} cells, {scope}",
                )
    pca = PCA(n_components=n_pcs, random_state=seed).fit(np.vstack([control_arr, real_arr]))
    emb_control, emb_real, emb_pred = (pca.transform(a) for a in (control_arr, real_arr, pred_arr))
    space = f"PCA({n_pcs}) fitted on control + real cells"
    for suffix, other in [("", emb_pred), ("_control", emb_control)]:
        who = "predicted" if not suffix else "control"
        records[f"edistance{suffix}"] = _entry(
            e_distance(emb_real, other),
            f"pertpy 1.2.0 E-distance (Euclidean, i<j within-set means), real vs {who}; {space}",
        )
        records[f"mmd{suffix}"] = _entry(
            mmd(emb_real, other),
            f"CPA multiscale-RBF MMD^2 (19 bandwidths), real vs {who}; {space}",
        )
    n = min(real_arr.shape[0], pred_arr.shape[0])
    rng = np.random.default_rng(seed)
    forest = rf_error(
        _subsample(real_arr, n, rng),
        _subsample(pred_arr, n, rng),
        n_pcs=min(n_pcs, n, real_arr.shape[1]),
        n_estimators=n_estimators,
        n_splits=n_splits,
        seed=seed,
        n_jobs=n_jobs,
    )
    setting = (
        f"{n} real + {n} predicted cells, pooled PCA, RF {n_estimators} trees, {n_splits} folds"
    )
    records["rf_error"] = _entry(forest.error, f"mean fold error; {setting}")
    records["rf_auc"] = _entry(forest.auc, f"mean fold ROC AUC; {setting}")
    if latent is not None:
        z_fake, z_real, mu, logsigma = latent
        for leave_own_out, suffix in [(False, ""), (True, "_leave_own_out")]:
            records[f"delta_h{suffix}"] = _entry(
                delta_h(z_fake, z_real, mu, logsigma, leave_own_out=leave_own_out),
                "H(predicted codes) - H(real codes) under the mixture of held-out real "
                f"posteriors, N={np.asarray(mu).shape[0]}, nats"
                + ("; own posterior left out of the real term" if leave_own_out else " (paper)"),
            )
    return records
