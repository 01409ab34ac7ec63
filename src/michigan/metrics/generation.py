"""Quality of generated cells: random-forest error (real vs generated) and inception score."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from scipy.special import xlogy
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from michigan.metrics.checks import (
    as_float64_matrix,
    check_choice,
    check_same_columns,
    check_same_rows,
)
from michigan.progress import Progress

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

PCAFit = Literal["pooled", "real"]
ISConvention = Literal["michigan", "standard"]


class RandomForestError(NamedTuple):
    """Cross-validated separability of real and generated cells.

    Attributes
    ----------
    error
        Mean misclassification rate over the folds (0.5 = indistinguishable; paper Table 2, %).
    auc
        Mean ROC AUC over the folds, generated cells as the positive class (0.5 = indistinguishable).
    fold_errors, fold_aucs
        ``[n_splits]`` per-fold values.
    """

    error: float
    auc: float
    fold_errors: np.ndarray
    fold_aucs: np.ndarray


class InceptionScore(NamedTuple):
    """Inception score of generated cells, with the held-out real cells' score as a ceiling.

    Attributes
    ----------
    mean, std
        Over the splits of the generated cells.
    real_mean, real_std
        The same for real cells the classifier did not see (NaN when there are too few).
    """

    mean: float
    std: float
    real_mean: float
    real_std: float


def rf_error(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    n_pcs: int | None = 50,
    pca_fit: PCAFit = "pooled",
    n_estimators: int = 1000,
    n_splits: int = 5,
    seed: int = 42,
    permutation: ArrayLike | None = None,
    n_jobs: int | None = None,
) -> RandomForestError:
    """Random-forest error of telling real from generated cells (paper section 2.5, Table 2).

    The rows ``[fake; real]`` are projected on ``n_pcs`` principal components, permuted once,
    split into ``n_splits`` contiguous folds, and a ``RandomForestClassifier(n_estimators,
    random_state=seed)`` refitted on each training part predicts real vs generated on the held-out
    fold. ``error = (1/F) sum_f (misclassified in fold f) / |fold f|``; ``auc`` is the fold-mean
    ROC AUC of the predicted probability of "generated".

    Parameters
    ----------
    real, fake
        ``[cells, genes]`` each, the same number of cells (paper: 3,000 + 3,000) and genes.
    n_pcs
        Principal components (paper: 50); ``None`` uses the genes as they are.
    pca_fit
        ``"pooled"`` (default; the paper's text and the shared recommendation): the PCA is fitted
        on all ``[fake; real]`` cells. ``"real"``: fitted on the real cells only, as
        MichiGAN's ``RandomForestError.fit`` does; real cells then carry their own noise in
        their projections and the error is biased down (0.28 instead of 0.475 on cells drawn
        from the real distribution, reference case B1).
    n_estimators
        Trees per forest (paper: 1000; use tens in tests).
    n_splits
        Folds (paper: 5).
    seed
        ``random_state`` of the PCA and of each forest, and seed of the row permutation.
    permutation
        ``[2 * cells]`` row order to use instead of the seeded one (to replay a recorded run).
    n_jobs
        Parallel jobs of the forest (results do not depend on it).

    Returns
    -------
    RandomForestError
        Mean error and AUC with their per-fold values.

    Notes
    -----
    Reference: welch-lab/MichiGAN@6d8cd8d ``metrics/GenerationMetrics.py::RandomForestError.fit``.
    Deviations: the permutation is seeded (the code used the unseeded global NumPy RNG);
    ``KFold(n_splits)`` without its ``random_state`` (rejected by scikit-learn >= 0.24 when
    ``shuffle=False``; the folds are the same); the pooled PCA by default; the AUC is added
    (cscGAN's measure). Values depend on the scikit-learn version (tree construction).
    """
    check_choice(pca_fit, "pca_fit", ("pooled", "real"))
    real_arr = as_float64_matrix(real, "real")
    fake_arr = as_float64_matrix(fake, "fake")
    check_same_columns(real=real_arr, fake=fake_arr)
    check_same_rows(real=real_arr, fake=fake_arr)
    x = np.vstack([fake_arr, real_arr])
    y = np.repeat([1, 0], [fake_arr.shape[0], real_arr.shape[0]])
    if x.shape[0] < 2 * n_splits or n_splits < 2:
        msg = (
            f"n_splits={n_splits} needs at least 2 and at most half the {x.shape[0]} pooled "
            "cells (each training part must hold real and generated cells)"
        )
        raise ValueError(msg)
    if n_pcs is not None:
        if not 1 <= n_pcs <= min(x.shape[1], real_arr.shape[0]):
            msg = (
                f"n_pcs={n_pcs} must be between 1 and min(genes, real cells) = "
                f"{min(x.shape[1], real_arr.shape[0])}"
            )
            raise ValueError(msg)
        pca = PCA(n_components=n_pcs, random_state=seed)
        x = pca.fit(x if pca_fit == "pooled" else real_arr).transform(x)
    if permutation is None:
        order = np.random.default_rng(seed).permutation(x.shape[0])
    else:
        order = np.asarray(permutation)
        if order.shape != (x.shape[0],) or not np.array_equal(
            np.sort(order), np.arange(x.shape[0])
        ):
            msg = f"permutation must be a permutation of 0..{x.shape[0] - 1}"
            raise ValueError(msg)
    x, y = x[order], y[order]

    errors, aucs = [], []
    progress = Progress(n_splits, desc="RF error fold", unit="folds", logger=logger)
    for fold, (train, test) in enumerate(KFold(n_splits=n_splits).split(x), start=1):
        forest = RandomForestClassifier(
            n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs
        ).fit(x[train], y[train])
        # predict_proba once: the forest's prediction is the class of highest mean probability
        proba = forest.predict_proba(x[test])
        p_fake = proba[:, list(forest.classes_).index(1)]
        errors.append(float(np.mean(forest.classes_[np.argmax(proba, axis=1)] != y[test])))
        aucs.append(float(roc_auc_score(y[test], p_fake)))
        progress.update(fold, metrics={"error": errors[-1], "auc": aucs[-1]})
    return RandomForestError(
        float(np.mean(errors)), float(np.mean(aucs)), np.array(errors), np.array(aucs)
    )


def _check_probabilities(probs: ArrayLike, splits: int) -> np.ndarray:
    p = as_float64_matrix(probs, "probs")
    if (p < 0).any():
        msg = f"probs has negative entries (min {p.min():.3g}); rows must be class probabilities"
        raise ValueError(msg)
    row_sums = p.sum(axis=1)
    off = np.flatnonzero(np.abs(row_sums - 1.0) > 1e-6)
    if off.size:
        msg = (
            f"probs rows must sum to 1 (tolerance 1e-6); {off.size} do not, e.g. row {off[0]} "
            f"sums to {row_sums[off[0]]:.6g}"
        )
        raise ValueError(msg)
    if not 1 <= splits <= p.shape[0]:
        msg = f"splits={splits} must be between 1 and the number of rows ({p.shape[0]})"
        raise ValueError(msg)
    return p


def inception_score(
    probs: ArrayLike,
    *,
    splits: int = 3,
    convention: ISConvention = "michigan",
    eps: float = 1e-6,
) -> tuple[float, float]:
    r"""Inception score of class probabilities, mean and standard deviation over splits.

    The rows are cut into ``splits`` consecutive parts (bounds ``i*n//splits``); for each part S,

    .. math::

        \mathrm{IS}_S = \exp\Big(\frac{1}{|S|}\sum_{i \in S}\sum_c p'_{ic}
            (\log p'_{ic} - \log \bar p_c)\Big).

    ``"michigan"`` (default; paper and MichiGAN ``metrics/util.py::preds2score``):
    ``p' = p + eps`` and ``\bar p`` is the mean of p over ALL rows. ``"standard"`` (Salimans et
    al. 2016): ``p' = p`` and ``\bar p`` is the mean within the split (usually 10 splits).

    Parameters
    ----------
    probs
        ``[cells, classes]``: predicted class probabilities of each cell, rows summing to 1.
    splits
        Number of consecutive splits (paper: 3).
    convention
        ``"michigan"`` or ``"standard"``, as above.
    eps
        Added to ``p`` under ``"michigan"`` (MichiGAN: 1e-6; it lifts a uniform prediction's
        score to 1.000003).

    Returns
    -------
    mean, std
        Over the splits (std with ddof 0). Between 1 and the number of classes.

    Notes
    -----
    Deviation (shared recommendation): a class that no row predicts (``\bar p_c = 0``)
    contributes 0, where the original divides by 0 and returns infinity; ``0 log 0 = 0``. The
    global marginal is blind to how classes spread across splits (class-sorted rows score much
    higher than under ``"standard"``).
    """
    check_choice(convention, "convention", ("michigan", "standard"))
    p = _check_probabilities(probs, splits)
    n = p.shape[0]
    global_marginal = p.mean(axis=0)
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        if convention == "michigan":
            shifted = part + eps
            kl_terms = np.where(
                global_marginal > 0,
                xlogy(shifted, shifted) - xlogy(shifted, global_marginal),
                0.0,
            )
        else:
            kl_terms = xlogy(part, part) - xlogy(part, part.mean(axis=0))
        scores.append(np.exp(np.mean(np.sum(kl_terms, axis=1))))
    return float(np.mean(scores)), float(np.std(scores))


def rf_inception_score(
    real: ArrayLike,
    real_labels: ArrayLike,
    generated: ArrayLike,
    *,
    n_train: int = 3000,
    n_estimators: int = 1000,
    seed: int = 42,
    splits: int = 3,
    convention: ISConvention = "michigan",
    n_jobs: int | None = None,
) -> InceptionScore:
    """Inception score of generated cells under a random-forest cell-type classifier.

    A ``RandomForestClassifier(n_estimators, random_state=seed)`` is fitted on ``n_train``
    real cells (raw features, no PCA) and their labels; its ``predict_proba`` on the generated
    cells goes to :func:`inception_score`. The real cells left out of training are scored the
    same way as a ceiling (the classifier's own training cells would be inflated).

    Parameters
    ----------
    real
        ``[real cells, genes]``.
    real_labels
        ``[real cells]``: cell types (or any class labels).
    generated
        ``[generated cells, genes]``.
    n_train
        Real cells used to fit the classifier (paper: 3,000). With more real cells a seeded
        subsample is taken; otherwise all real cells are used in their order and there is no
        held-out ceiling.
    n_estimators
        Trees (paper: 1000).
    seed
        ``random_state`` of the forest and seed of the subsample.
    splits, convention
        See :func:`inception_score`.
    n_jobs
        Parallel jobs of the forest.

    Returns
    -------
    InceptionScore
        Generated cells' score and the held-out real cells' score (NaN if fewer than
        ``splits`` real cells are held out).

    Notes
    -----
    Reference: welch-lab/MichiGAN@6d8cd8d ``GenerationMetrics.MetricVisualize.InceptionScore``
    (which fits on all real cells passed in). Additions: the seeded training subsample and the
    held-out ceiling (shared recommendation).
    """
    real_arr = as_float64_matrix(real, "real")
    gen_arr = as_float64_matrix(generated, "generated")
    check_same_columns(real=real_arr, generated=gen_arr)
    labels = np.asarray(real_labels)
    check_same_rows(real=real_arr, real_labels=labels)
    if np.unique(labels).size < 2:
        msg = "real_labels has a single class; the inception score needs two or more"
        raise ValueError(msg)
    n_real = real_arr.shape[0]
    if n_real > n_train:
        chosen = np.sort(np.random.default_rng(seed).choice(n_real, n_train, replace=False))
    else:
        chosen = np.arange(n_real)
    held_out = np.setdiff1d(np.arange(n_real), chosen)
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    forest.fit(real_arr[chosen], labels[chosen])
    mean, std = inception_score(forest.predict_proba(gen_arr), splits=splits, convention=convention)
    real_mean = real_std = float("nan")
    if held_out.size >= splits:
        real_mean, real_std = inception_score(
            forest.predict_proba(real_arr[held_out]), splits=splits, convention=convention
        )
    logger.info("inception score %.4f +- %.4f (held-out real cells %.4f)", mean, std, real_mean)
    return InceptionScore(mean, std, real_mean, real_std)
