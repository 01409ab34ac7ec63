"""Ground-truth factors as levels: discrete columns as they are, continuous ones cut into quantile bins.

The metrics (MIG, FactorVAE score, Spearman gap on levels) need every factor as a few levels, each
shared by many cells. A column is read by its dtype and its number of distinct values
(docs/metrics.md, "Continuous factors"):

- categorical, string or boolean columns, and numeric columns with at most :data:`FACTOR_BINS`
  distinct values (batch, path, step, a library-size quartile, a dose): one level per value;
- numeric columns with more distinct values (a library size such as Splatter's ``ExpLibSize``, a
  pseudotime): continuous, cut into :data:`FACTOR_BINS` equal-frequency (quantile) bins, fewer
  when ties make bin edges coincide. disentanglement_lib bins *latents* into 20 equal-width bins
  (``utils._histogram_discretize``: ``np.digitize(x, np.histogram(x, 20)[1][:-1])``); factors are
  binned by quantiles instead, so that an outlier (one very deep cell) does not leave most bins
  empty, as the paper cut library size into quartiles;
- refused: a column with a single value, and one where every cell has its own value and that is
  not continuous (a string ID, or whole numbers counting up one by one like a cell index). Taken
  as one level per value, such a column gives a FactorVAE score of 1 whatever the code.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from michigan.messages import examples, quote

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

#: most distinct values of a numeric factor taken as levels; also the number of quantile bins of
#: a continuous factor (disentanglement_lib's default number of bins)
FACTOR_BINS = 20


def is_continuous(values: pd.Series, *, n_bins: int = FACTOR_BINS) -> bool:
    """Whether a factor column is binned: numeric (not boolean) with more than ``n_bins`` values."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return numeric and values.nunique() > n_bins


def factor_codes(values: pd.Series, *, name: str, n_bins: int = FACTOR_BINS) -> np.ndarray:
    """Integer codes ``0..levels-1`` of one factor column (see the module docstring for the rules).

    Parameters
    ----------
    values
        One value per cell.
    name
        The column and where it comes from, e.g. ``"codes.h5ad obs['library_size']"``.
    n_bins
        Most distinct values taken as levels, and the number of quantile bins otherwise.

    Returns
    -------
    numpy.ndarray
        ``[cells]`` int64 codes: levels in sorted order, or bins from low to high values.

    Raises
    ------
    ValueError
        If a value is missing, the column has one value, or every cell has its own value of a
        column that is not continuous (an ID), each naming the column.
    """
    n_missing = int(values.isna().sum())
    if n_missing:
        msg = f"{name} has {n_missing} missing values; every cell needs a level"
        raise ValueError(msg)
    n_values = values.nunique()
    if n_values < 2:
        shown = examples(values.unique()[:1])
        msg = f"{name} has a single value ({shown}) for all {len(values)} cells; a factor needs two or more"
        raise ValueError(msg)
    if is_continuous(values, n_bins=n_bins) and not _counts_up(values):
        codes = pd.qcut(values.to_numpy(dtype=np.float64), n_bins, labels=False, duplicates="drop")
        logger.info(
            "%s is continuous (%d distinct values): cut into %d equal-frequency bins",
            name,
            n_values,
            int(codes.max()) + 1,
        )
        return codes.astype(np.int64)
    if n_values == len(values):
        msg = (
            f"{name} gives every one of its {len(values)} cells its own value "
            f"({examples(values.iloc[:3])}), like a cell ID; a factor needs levels shared by "
            "many cells (a continuous measurement must be stored as fractional numbers)"
        )
        raise ValueError(msg)
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _counts_up(values: pd.Series) -> bool:
    """Whether ``values`` are distinct whole numbers forming one unbroken run (a cell index)."""
    numbers = values.to_numpy(dtype=np.float64)
    if not np.array_equal(numbers, np.round(numbers)) or values.nunique() != len(values):
        return False
    return numbers.max() - numbers.min() == len(numbers) - 1


def factor_matrix(
    obs: pd.DataFrame, factor_keys: Sequence[str], *, source: str, n_bins: int = FACTOR_BINS
) -> np.ndarray:
    """Codes ``[cells, factors]`` of the obs columns ``factor_keys`` (see :func:`factor_codes`).

    Raises
    ------
    KeyError
        If a column is missing, naming ``source`` and the columns present.
    ValueError
        As :func:`factor_codes`.
    """
    missing = [key for key in factor_keys if key not in obs.columns]
    if missing:
        msg = (
            f"{source} lacks the factor column(s) {examples(missing)}; "
            f"obs columns: {examples(obs.columns, limit=20)}"
        )
        raise KeyError(msg)
    codes = np.empty((len(obs), len(factor_keys)), dtype=np.int64)
    for k, key in enumerate(factor_keys):
        codes[:, k] = factor_codes(obs[key], name=f"{source} obs[{quote(key)}]", n_bins=n_bins)
    return codes
