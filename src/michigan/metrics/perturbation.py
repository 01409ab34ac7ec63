"""Perturbation-prediction metrics: R^2 of per-gene statistics, E-distance and MMD."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics import r2_score

from michigan.metrics.checks import as_float64_matrix, check_choice, check_same_columns

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

R2Kind = Literal["scgen", "cpa"]
R2Stat = Literal["mean", "var"]
EDistanceConvention = Literal["pertpy", "pertpy_precomputed", "pertpy_0.10"]
MMDKernel = Literal["multiscale", "linear", "rbf"]

#: bandwidths alpha of CPA's multiscale kernel sum_alpha exp(-d^2 / (2 alpha))
CPA_MMD_ALPHAS: tuple[float, ...] = (
    1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 5.0, 10.0, 15.0,
    20.0, 25.0, 30.0, 35.0, 100.0, 1e3, 1e4, 1e5, 1e6,
)  # fmt: skip
#: rows of the first set per block of pairwise distances (bounds memory to ~2,048 x |other set|)
_PAIR_BLOCK = 2048


def r2_mean(
    real: ArrayLike,
    pred: ArrayLike,
    *,
    kind: R2Kind = "scgen",
    stat: R2Stat = "mean",
    genes: ArrayLike | None = None,
) -> float:
    r"""R^2 between the per-gene means (or variances) of real and predicted cells.

    With ``y_g`` the statistic of gene g over the real cells and ``x_g`` over the predicted
    cells (variances with ddof 0):

    - ``kind="scgen"``: squared Pearson correlation ``r(x, y)^2`` (scGen ``reg_mean_plot`` /
      ``reg_var_plot``: ``scipy.stats.linregress(x, y).rvalue ** 2``); symmetric, forgives
      offsets and scale.
    - ``kind="cpa"``: coefficient of determination
      ``1 - sum_g (y_g - x_g)^2 / sum_g (y_g - mean(y))^2`` (CPA ``evaluate_r2``:
      ``sklearn.metrics.r2_score(y, x)``); asymmetric, can be negative.

    Parameters
    ----------
    real
        ``[real cells, genes]``: held-out real treated cells.
    pred
        ``[predicted cells, genes]``: predicted cells (any count).
    kind
        ``"scgen"`` or ``"cpa"``, as above.
    stat
        ``"mean"`` or ``"var"``: the per-gene statistic.
    genes
        Gene indices or a boolean mask, e.g. the top DE genes (from real data only); ``None``
        uses all genes.

    Returns
    -------
    float
        R^2 (at most 1).

    Notes
    -----
    References: theislab/scgen@d79e1f0 ``scgen/_scgen.py``; facebookresearch/CPA@50e283a
    ``cpa/api.py::evaluate_r2``, ``cpa/helper.py::evaluate_r2_``. All-gene values are dominated
    by unchanged genes; report the control cells as a baseline prediction alongside.
    """
    check_choice(kind, "kind", ("scgen", "cpa"))
    check_choice(stat, "stat", ("mean", "var"))
    real_arr = as_float64_matrix(real, "real")
    pred_arr = as_float64_matrix(pred, "pred")
    n_genes = check_same_columns(real=real_arr, pred=pred_arr)
    reduce = np.mean if stat == "mean" else np.var
    y, x = reduce(real_arr, axis=0), reduce(pred_arr, axis=0)
    if genes is not None:
        index = np.asarray(genes)
        if index.dtype == bool and index.shape != (n_genes,):
            msg = f"genes mask has shape {index.shape}; expected ({n_genes},)"
            raise ValueError(msg)
        if index.dtype != bool and (index.min() < 0 or index.max() >= n_genes):
            msg = f"genes indices must lie in 0..{n_genes - 1}"
            raise ValueError(msg)
        y, x = y[index], x[index]
    if y.size < 2:
        msg = f"R^2 needs at least two genes; got {y.size}"
        raise ValueError(msg)
    if kind == "cpa":
        return float(r2_score(y, x))
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        msg = f"the per-gene {stat}s of real or pred are all equal; Pearson r is undefined"
        raise ValueError(msg)
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def _pair_mean(
    a: np.ndarray, b: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]
) -> float:
    """Mean of ``transform(||a_i - b_j||^2)`` over all pairs, in row blocks of ``a``."""
    total = 0.0
    for start in range(0, a.shape[0], _PAIR_BLOCK):
        total += float(np.sum(transform(cdist(a[start : start + _PAIR_BLOCK], b, "sqeuclidean"))))
    return total / (a.shape[0] * b.shape[0])


def _check_pair(x: ArrayLike, y: ArrayLike, *, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    x_arr = as_float64_matrix(x, "x", min_rows=min_rows)
    y_arr = as_float64_matrix(y, "y", min_rows=min_rows)
    check_same_columns(x=x_arr, y=y_arr)
    return x_arr, y_arr


def e_distance(x: ArrayLike, y: ArrayLike, *, convention: EDistanceConvention = "pertpy") -> float:
    r"""Energy distance between two cell sets (pertpy's ``Edistance``).

    ``convention="pertpy"`` (pertpy >= 1.0.4, incl. 1.2.0, ``Edistance.__call__``):

    .. math::

        E = \frac{2}{n m}\sum_{i,j}\lVert x_i - y_j\rVert
            - \frac{1}{\binom n2}\sum_{i<i'}\lVert x_i - x_{i'}\rVert
            - \frac{1}{\binom m2}\sum_{j<j'}\lVert y_j - y_{j'}\rVert.

    ``"pertpy_precomputed"`` (``Edistance.from_precomputed``): within-set means over all
    ``n^2`` pairs, zero diagonal included. ``"pertpy_0.10"`` (pertpy <= 0.10): squared
    Euclidean with the diagonal, which equals ``2 ||mean(x) - mean(y)||^2`` (it compares means
    only).

    Parameters
    ----------
    x, y
        ``[cells, features]`` each: usually a fixed PCA of the real cells (pertpy uses
        ``obsm["X_pca"]``), e.g. real treated vs predicted cells. At least two cells each.
    convention
        As above; default the pertpy 1.2.0 definition (shared recommendation).

    Returns
    -------
    float
        E-distance (0 for identical distributions in the limit; the ``"pertpy"`` value can be
        slightly negative for samples of one distribution).

    Notes
    -----
    Reference: scverse/pertpy@0c429c5 ``tools/_distances/_distances.py`` (1.2.0) and @0efe76c
    (0.10). Pairwise distances are computed in blocks, so memory stays at
    ``2048 x cells`` values.
    """
    check_choice(convention, "convention", ("pertpy", "pertpy_precomputed", "pertpy_0.10"))
    x_arr, y_arr = _check_pair(x, y, min_rows=2)
    if convention == "pertpy_0.10":
        return float(2.0 * np.sum((x_arr.mean(axis=0) - y_arr.mean(axis=0)) ** 2))
    between = _pair_mean(x_arr, y_arr, np.sqrt)
    within_x = _pair_mean(x_arr, x_arr, np.sqrt)
    within_y = _pair_mean(y_arr, y_arr, np.sqrt)
    if convention == "pertpy":
        # the all-pairs mean includes n zero self-distances: rescale to the mean over i != i'
        n, m = x_arr.shape[0], y_arr.shape[0]
        within_x *= n / (n - 1)
        within_y *= m / (m - 1)
    return 2.0 * between - within_x - within_y


def mmd(
    x: ArrayLike, y: ArrayLike, *, kernel: MMDKernel = "multiscale", gamma: float = 1.0
) -> float:
    r"""Biased (V-statistic) squared maximum mean discrepancy between two cell sets.

    .. math::

        \mathrm{MMD}^2 = \overline{k(x, x')} + \overline{k(y, y')} - 2\,\overline{k(x, y)},

    means over all pairs, diagonals included. Kernels: ``"multiscale"`` (default; CPA
    ``cpa/helper.py::mmd_loss_calc``, shared recommendation: no bandwidth to choose):
    ``k = sum_alpha exp(-d^2 / (2 alpha))`` over :data:`CPA_MMD_ALPHAS`; ``"rbf"`` (pertpy
    ``MMD(kernel="rbf")``): ``exp(-gamma d^2)``; ``"linear"`` (pertpy's default):
    ``<x, y>``, which gives ``||mean(x) - mean(y)||^2``.

    Parameters
    ----------
    x, y
        ``[cells, features]`` each.
    kernel
        As above.
    gamma
        RBF inverse bandwidth (pertpy/scikit-learn default 1.0; scale-dependent).

    Returns
    -------
    float
        MMD^2 >= 0 (up to rounding).

    Notes
    -----
    References: scverse/pertpy@0c429c5 ``MMD``; facebookresearch/CPA@50e283a ``mmd_loss_calc``.
    Deviation: computed in float64 (CPA uses float32 torch; they agree to ~2e-6 relative).
    """
    check_choice(kernel, "kernel", ("multiscale", "linear", "rbf"))
    x_arr, y_arr = _check_pair(x, y, min_rows=1)
    if kernel == "linear":
        return float(np.sum((x_arr.mean(axis=0) - y_arr.mean(axis=0)) ** 2))
    if kernel == "rbf":
        if gamma <= 0:
            msg = f"gamma must be positive; got {gamma}"
            raise ValueError(msg)

        def transform(d2: np.ndarray) -> np.ndarray:
            return np.exp(-gamma * d2)

    else:

        def transform(d2: np.ndarray) -> np.ndarray:
            return sum(np.exp(-d2 / (2.0 * alpha)) for alpha in CPA_MMD_ALPHAS)

    return (
        _pair_mean(x_arr, x_arr, transform)
        + _pair_mean(y_arr, y_arr, transform)
        - 2.0 * _pair_mean(x_arr, y_arr, transform)
    )
