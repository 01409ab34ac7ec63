"""Probabilistic PCA baseline in closed form, with the original code's posterior and the textbook one.

Fit (as sklearn's ``PCA(n_components=K)``, which the original wraps): mean ``mu``, the top-``K``
eigenvectors ``C`` (``[K, G]``, orthonormal rows) and eigenvalues ``lambda_k`` of the sample covariance
(``ddof = 1``), and the noise variance ``sigma^2`` = the mean of the discarded eigenvalues among the
``min(n, G)`` possible ones. With ``P = diag(1/sigma^2 + 1/(lambda_k - sigma^2))`` (spec §2.8):

===========  ==============================  ================================  =====================
posterior    mean                            standard deviation                decode noise std
===========  ==============================  ================================  =====================
``code``     ``P^-1 C (x - mu)``             ``sqrt(P_kk) / sigma^2``          ``sigma^2``
``textbook`` ``P^-1 C (x - mu) / sigma^2``   ``sqrt(1 / P_kk)``                ``sigma``
===========  ==============================  ================================  =====================

``decode(z) = z C + mu`` plus Gaussian noise per gene. ``code`` reproduces welch-lab/MichiGAN
``models/ppca.py`` including its quirks (the mean lacks ``1/sigma^2``, the variance is ``P / sigma^4``
instead of ``P^-1``, the noise variance is used as a standard deviation); ``textbook`` is Tipping and
Bishop's posterior in PCA-score space (latent prior ``N(0, diag(lambda - sigma^2))``). They agree only
when ``sigma^2 ~ 1``.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import scipy.linalg

PPCAPosterior = Literal["code", "textbook"]
PPCA_POSTERIORS: tuple[str, ...] = ("code", "textbook")


@dataclasses.dataclass(frozen=True)
class PPCAFit:
    """A fitted probabilistic PCA.

    Attributes
    ----------
    mean
        ``[G]`` gene means.
    components
        ``[K, G]`` principal axes (orthonormal rows, by decreasing variance; sign: largest
        absolute loading positive).
    explained_variance
        ``[K]`` eigenvalues ``lambda_k`` of the covariance (``ddof = 1``).
    noise_variance
        ``sigma^2``, mean of the discarded eigenvalues.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    noise_variance: float

    @property
    def precision_diag(self) -> np.ndarray:
        """``[K]`` diagonal of ``P = diag(1/sigma^2 + 1/(lambda_k - sigma^2))``."""
        return 1.0 / self.noise_variance + 1.0 / (self.explained_variance - self.noise_variance)


def fit_ppca(x: np.ndarray, n_components: int) -> PPCAFit:
    """Fit probabilistic PCA to ``x [cells, genes]`` in closed form.

    The covariance ``[G, G]`` is formed in float64 and only its top ``K`` eigenpairs are computed, so the
    cost is one ``G x n x G`` product plus a partial eigendecomposition.

    Raises
    ------
    ValueError
        If there are not more cells and genes than components, or if a retained eigenvalue does not
        exceed the noise variance (the posterior is then undefined).
    """
    n_cells, n_genes = x.shape
    rank = min(n_cells - 1, n_genes)
    if n_components >= rank:
        msg = (
            f"PPCA with {n_components} components needs more than {n_components} non-trivial "
            f"eigenvalues; the data ({n_cells} cells x {n_genes} genes) has at most {rank}"
        )
        raise ValueError(msg)
    data = np.asarray(x, dtype=np.float64)
    mean = data.mean(axis=0)
    centred = data - mean
    covariance = centred.T @ centred / (n_cells - 1)
    values, vectors = scipy.linalg.eigh(
        covariance, subset_by_index=(n_genes - n_components, n_genes - 1)
    )
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order].T
    signs = np.sign(vectors[np.arange(n_components), np.argmax(np.abs(vectors), axis=1)])
    vectors *= signs[:, None]
    # sklearn averages the discarded eigenvalues over min(n_cells, n_genes) - K of them.
    discarded = np.trace(covariance) - values.sum()
    noise_variance = float(discarded / (min(n_cells, n_genes) - n_components))
    if np.any(values <= noise_variance):
        msg = (
            f"PPCA eigenvalues {values.tolist()} must all exceed the noise variance "
            f"{noise_variance}; reduce latent_dim"
        )
        raise ValueError(msg)
    return PPCAFit(mean, vectors, values, noise_variance)


def ppca_posterior(
    fit: PPCAFit, x: np.ndarray, *, posterior: PPCAPosterior = "code"
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean ``[cells, K]`` and standard deviation ``[cells, K]`` (see the module table)."""
    _check_posterior(posterior)
    precision = fit.precision_diag
    scores = (np.asarray(x, dtype=np.float64) - fit.mean) @ fit.components.T
    if posterior == "code":
        mean = scores / precision
        std = np.sqrt(precision) / fit.noise_variance
    else:
        mean = scores / (precision * fit.noise_variance)
        std = np.sqrt(1.0 / precision)
    return mean, np.broadcast_to(std, mean.shape).copy()


def ppca_decode(
    fit: PPCAFit,
    z: np.ndarray,
    *,
    posterior: PPCAPosterior = "code",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """``z C + mu`` ``[cells, G]``, plus per-gene Gaussian noise when ``rng`` is given (module table)."""
    _check_posterior(posterior)
    mean = np.asarray(z, dtype=np.float64) @ fit.components + fit.mean
    if rng is None:
        return mean
    noise_std = fit.noise_variance if posterior == "code" else np.sqrt(fit.noise_variance)
    return mean + noise_std * rng.standard_normal(mean.shape)


def _check_posterior(posterior: str) -> None:
    if posterior not in PPCA_POSTERIORS:
        msg = f"ppca_posterior must be one of {PPCA_POSTERIORS}, got {posterior!r}"
        raise ValueError(msg)
