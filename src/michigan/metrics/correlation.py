"""Spearman correlation gap, and the kNN labelling of generated cells it needs for GANs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import rankdata
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from michigan.metrics.checks import as_float64_matrix, check_same_columns, check_same_rows

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def spearman_matrix(
    codes: ArrayLike, factors: ArrayLike, *, allow_constant_factors: bool = False
) -> np.ndarray:
    """Spearman correlations ``rho(z_j, v_k)``, shape ``[factors, latents]``.

    Pearson correlation of average ranks (ties share their mean rank), as
    ``scipy.stats.spearmanr``. A constant latent has no defined correlation; it gets 0 here
    (scipy and MichiGAN give NaN).

    Parameters
    ----------
    codes
        ``[cells, latents]``.
    factors
        ``[cells, factors]``: discrete or continuous, each with at least two distinct values.
    allow_constant_factors
        Let a factor have a single value (its correlations are then 0) instead of raising: for
        factors inferred for generated cells, which a collapsed generator can leave constant.

    Returns
    -------
    numpy.ndarray
        ``[factors, latents]`` in [-1, 1].
    """
    code_arr = as_float64_matrix(codes, "codes", min_rows=2)
    factor_arr = as_float64_matrix(factors, "factors", min_rows=2)
    check_same_rows(codes=code_arr, factors=factor_arr)
    constant = np.flatnonzero(np.ptp(factor_arr, axis=0) == 0)
    if constant.size and not allow_constant_factors:
        msg = f"factors column {constant[0]} has a single value; a factor needs two or more"
        raise ValueError(msg)

    def standardized_ranks(x: np.ndarray) -> np.ndarray:
        ranks = rankdata(x, axis=0)
        ranks -= ranks.mean(axis=0)
        norm = np.linalg.norm(ranks, axis=0)
        return np.divide(ranks, norm, out=np.zeros_like(ranks), where=norm > 0)

    return standardized_ranks(factor_arr).T @ standardized_ranks(code_arr)


def spearman_gap(
    codes: ArrayLike, factors: ArrayLike, *, allow_constant_factors: bool = False
) -> float:
    r"""Mean over factors of the gap between the two largest absolute Spearman correlations.

    .. math::

        \mathrm{gap} = \frac{1}{K}\sum_k \Big(|\rho_{k,(1)}| - |\rho_{k,(2)}|\Big),

    with ``|rho_k,(1)| >= |rho_k,(2)|`` the two largest ``|rho(z_j, v_k)|`` over latents j.

    Parameters
    ----------
    codes
        ``[cells, latents]``: posterior means (VAE/PCA) or the generator's input codes (GANs).
    factors
        ``[cells, factors]``: true factors (library size as quartiles, as in the paper's
        figures), or the kNN-inferred factors of generated cells (:func:`infer_factors_knn`).
    allow_constant_factors
        See :func:`spearman_matrix`: a constant factor then adds a gap of 0.

    Returns
    -------
    float
        In [0, 1]: about 1 when each factor is monotone in exactly one latent; 0 for a
        constant code or when two latents carry the same factor.

    Notes
    -----
    Reference: welch-lab/MichiGAN@6d8cd8d ``DisentangleMetrics.CorrValue`` / ``CorrGap``
    (``scipy.stats.spearmanr(z_j, v_k, nan_policy="omit")``). Deviation: the correlation of a
    constant latent is 0 instead of NaN (which made the original gap NaN). Spearman only sees
    monotone relations: a factor encoded as a hump scores near 0 while its MI is high.
    """
    rho = np.abs(spearman_matrix(codes, factors, allow_constant_factors=allow_constant_factors))
    if rho.shape[1] < 2:
        msg = f"the Spearman gap needs at least two latents; got {rho.shape[1]}"
        raise ValueError(msg)
    top = -np.sort(-rho, axis=1)[:, :2]
    return float(np.mean(top[:, 0] - top[:, 1]))


def infer_factors_knn(
    real_x: ArrayLike,
    real_factors: ArrayLike,
    fake_x: ArrayLike,
    *,
    k: int = 3,
    n_pcs: int | None = 50,
    seed: int = 0,
) -> np.ndarray:
    """Label generated cells with the factors of their k nearest real cells.

    A PCA with ``n_pcs`` components is fitted on the real cells and applied to both sets; a
    ``KNeighborsClassifier(n_neighbors=k)`` (Euclidean, uniform weights, one output per factor)
    fitted on the real cells' coordinates and factors predicts each generated cell's factors.

    Parameters
    ----------
    real_x
        ``[real cells, genes]``.
    real_factors
        ``[real cells, factors]``: discrete factors of the real cells.
    fake_x
        ``[generated cells, genes]``.
    k
        Neighbours (paper: 3).
    n_pcs
        Principal components of the real cells to work in; ``None`` uses the genes as they are.
    seed
        ``random_state`` of the PCA (used by its randomized solver).

    Returns
    -------
    numpy.ndarray
        ``[generated cells, factors]``: predicted levels, values taken from ``real_factors``.

    Notes
    -----
    Reference: welch-lab/MichiGAN@6d8cd8d ``KNNPredictVar`` (paper section 2.4 calls it a
    "regressor"; the code uses this classifier). Ties among the k votes go to the smallest
    level (scikit-learn).
    """
    real = as_float64_matrix(real_x, "real_x")
    fake = as_float64_matrix(fake_x, "fake_x")
    check_same_columns(real_x=real, fake_x=fake)
    labels = np.asarray(real_factors)
    labels_2d = labels[:, None] if labels.ndim == 1 else labels
    check_same_rows(real_x=real, real_factors=labels_2d)
    if not 1 <= k <= real.shape[0]:
        msg = f"k={k} must be between 1 and the number of real cells ({real.shape[0]})"
        raise ValueError(msg)
    if n_pcs is not None:
        if not 1 <= n_pcs <= min(real.shape):
            msg = f"n_pcs={n_pcs} must be between 1 and min(real cells, genes) = {min(real.shape)}"
            raise ValueError(msg)
        pca = PCA(n_components=n_pcs, random_state=seed).fit(real)
        real, fake = pca.transform(real), pca.transform(fake)
    # scikit-learn wants a 1-D target for a single output
    target = labels_2d if labels_2d.shape[1] > 1 else labels_2d[:, 0]
    knn = KNeighborsClassifier(n_neighbors=k).fit(real, target)
    return knn.predict(fake).reshape(fake.shape[0], labels_2d.shape[1])
