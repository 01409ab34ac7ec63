"""Input validation shared by the metric functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def as_float64_matrix(x: ArrayLike, name: str, *, min_rows: int = 1) -> np.ndarray:
    """Return ``x`` as a finite float64 matrix ``[rows, columns]`` or raise a ``ValueError``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        msg = f"{name} must be a matrix [cells, columns]; got an array of shape {arr.shape}"
        raise ValueError(msg)
    if arr.shape[0] < min_rows or arr.shape[1] == 0:
        msg = f"{name} needs at least {min_rows} row(s) and one column; got shape {arr.shape}"
        raise ValueError(msg)
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        msg = (
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), "
            f"the first at row {row}, column {col}; metrics need finite values"
        )
        raise ValueError(msg)
    return arr


def _check_same_extent(axis: int, arrays: dict[str, np.ndarray]) -> int:
    """Raise a ``ValueError`` unless all arrays have the same length along ``axis``; return it."""
    what, meaning = (
        ("row", "describe the same cells") if axis == 0 else ("column", "share their features")
    )
    extents = {name: arr.shape[axis] for name, arr in arrays.items()}
    if len(set(extents.values())) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in extents.items())
        msg = f"{what} counts differ ({listing}); these arrays must {meaning}"
        raise ValueError(msg)
    return next(iter(extents.values()))


def check_same_rows(**arrays: np.ndarray) -> int:
    """Raise a ``ValueError`` unless all arrays have the same number of rows; return it."""
    return _check_same_extent(0, arrays)


def check_same_columns(**arrays: np.ndarray) -> int:
    """Raise a ``ValueError`` unless all arrays have the same number of columns; return it."""
    return _check_same_extent(1, arrays)


def encode_factors(factors: ArrayLike, name: str = "factors") -> np.ndarray:
    """Return integer codes ``0..levels-1`` per column of a discrete factor matrix.

    Raises a ``ValueError`` for missing values and for a factor with a single level (its
    entropy is 0, so nothing can be normalised by it).
    """
    arr = np.asarray(factors)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        msg = f"{name} must be a non-empty matrix [cells, factors]; got shape {arr.shape}"
        raise ValueError(msg)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            msg = f"{name} contains NaN or inf; every cell needs a level for every factor"
            raise ValueError(msg)
        fractional = np.flatnonzero((arr != np.round(arr)).any(axis=0))
        if fractional.size:
            msg = (
                f"{name} column {fractional[0]} has non-integer values: a continuous factor "
                "must be binned into levels first (e.g. library size into quartiles)"
            )
            raise ValueError(msg)
    codes = np.empty(arr.shape, dtype=np.int64)
    for k in range(arr.shape[1]):
        levels, codes[:, k] = np.unique(arr[:, k], return_inverse=True)
        if levels.size < 2:
            msg = (
                f"{name} column {k} has a single level ({levels[0]!r}); a factor needs at "
                "least two levels"
            )
            raise ValueError(msg)
    return codes


def check_choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    """Raise a ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        msg = f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}"
        raise ValueError(msg)
    return value
