"""Checks of an expression matrix and its names before any work: counts or log-normalised values, unique names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from michigan.messages import examples

if TYPE_CHECKING:
    from collections.abc import Iterable

#: largest value a log-normalised matrix may hold: ln(1 + x) = 30 needs x of about 1e13, beyond
#: any normalisation target (scanpy's 1e4, CPM's 1e6), so a larger value was not log-transformed
MAX_LOG_VALUE = 30.0

NORMALISED_HINT = (
    "if the values are already normalised and log-transformed (ln(1 + x) of library-size "
    "normalised counts), set normalised: true for this dataset (docs/datasets.md); otherwise "
    "point counts_layer at the raw counts"
)


def check_counts(matrix: np.ndarray | sp.spmatrix, *, where: str, normalised: bool = False) -> None:
    """Raise unless ``matrix`` holds raw counts (or, if ``normalised``, log-normalised values).

    Every matrix must be finite and non-negative. Counts must be whole numbers: a fractional value
    means normalised or log-transformed data, which the recipe would normalise and log a second
    time. Log-normalised values must not all be whole numbers (raw counts by mistake) and must stay
    below :data:`MAX_LOG_VALUE` (normalised but not log-transformed).

    Parameters
    ----------
    matrix
        ``[cells, genes]`` dense or sparse matrix.
    where
        What the matrix is (file and slot), for the message.
    normalised
        Whether the matrix is declared log-normalised instead of counts.

    Raises
    ------
    ValueError
        Naming ``where``, the problem, how many entries have it and an example value.
    """
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if n_bad:
        msg = f"{where} holds {n_bad} NaN or infinite values; counts must be finite"
        raise ValueError(msg)
    n_negative = int(np.count_nonzero(values < 0))
    if n_negative:
        msg = (
            f"{where} holds {n_negative} negative values (minimum {values.min()}); "
            "counts must be non-negative"
        )
        if normalised:
            msg += " (scaled data cannot be used: give the log-normalised values before scaling)"
        raise ValueError(msg)
    fractional = values != np.round(values)
    if not normalised and fractional.any():
        msg = (
            f"{where} holds {int(np.count_nonzero(fractional))} non-integer values (e.g. "
            f"{values[fractional].flat[0]:.6g}), so it is not raw counts; {NORMALISED_HINT}"
        )
        raise ValueError(msg)
    if normalised and np.size(values) and not fractional.any():
        msg = (
            f"{where} holds whole numbers only, like raw counts, but the dataset is declared "
            "normalised; set normalised: false to have the recipe normalise and log-transform it"
        )
        raise ValueError(msg)
    if normalised and np.size(values) and values.max() > MAX_LOG_VALUE:
        msg = (
            f"{where} holds values up to {values.max():.6g}, more than any log-normalised value "
            f"reaches ({MAX_LOG_VALUE:g}); normalised: true expects ln(1 + x) of normalised counts"
        )
        raise ValueError(msg)


def check_unique_names(names: Iterable[str], *, what: str, where: str) -> None:
    """Raise if ``names`` (cell or gene names) repeat, quoting a few repeated ones.

    Parameters
    ----------
    names
        The ``obs_names`` or ``var_names``.
    what
        ``"cell"`` or ``"gene"``, for the message.
    where
        The file or object, for the message.

    Raises
    ------
    ValueError
        Naming ``where``, the number of repeated names and the first few of them.
    """
    import pandas as pd

    index = pd.Index(names)
    if index.is_unique:
        return
    repeated = index[index.duplicated(keep=False)].unique()
    msg = (
        f"{where} has {len(repeated)} {what} names that occur more than once "
        f"({examples(repeated)}); {what} names must be unique "
        f"(AnnData's {'obs' if what == 'cell' else 'var'}_names_make_unique() renames them)"
    )
    raise ValueError(msg)
