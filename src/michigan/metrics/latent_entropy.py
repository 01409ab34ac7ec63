"""Latent-space entropy of predicted codes and its gap to real codes (paper section 2.3)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from michigan.metrics._gaussian import log_mixture_joint
from michigan.metrics.checks import as_float64_matrix, check_same_columns, check_same_rows

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)


def latent_entropy(
    z: ArrayLike,
    mu: ArrayLike,
    logsigma: ArrayLike,
    *,
    leave_own_out: bool = False,
    float64: bool = True,
) -> float:
    r"""Cross-entropy of latent points under the mixture of real cells' posteriors.

    .. math::

        H\{\tau, g\} = -\frac{1}{S}\sum_{s=1}^{S} \log\Big[\frac{1}{N}\sum_{n=1}^{N}
            \prod_j \mathcal N(z_{sj}; \mu_{nj}, \sigma_{nj})\Big],

    the joint (all latents together) entropy term of beta-tcvae's
    ``elbo_decomposition.estimate_entropies``, used by MichiGAN's ``latent_space_entropies``.

    Parameters
    ----------
    z
        ``[samples, latents]``: the points tau (encoded real cells or predicted codes).
    mu, logsigma
        ``[cells, latents]``: posteriors g(X) of the held-out real cells.
    leave_own_out
        Skip component ``n = s`` and use ``log(N - 1)``: for samples drawn from these very
        posteriors (rows of ``z`` = rows of ``mu``), which otherwise each sit on their own
        component and make the entropy too small (an addition, not in the paper).
    float64
        Log-densities in float64 (default; the joint density of many latents spans a wide
        range) or float32.

    Returns
    -------
    float
        Entropy in nats; it depends on N through ``log N``, so compare values at equal N.

    Notes
    -----
    Reference: Yu & Welch (2021) section 2.3; rtqichen/beta-tcvae@1a3577d. Computed in chunked
    JAX, ``O(S N D)``.
    """
    z_arr = as_float64_matrix(z, "z")
    mu_arr = as_float64_matrix(mu, "mu")
    logsigma_arr = as_float64_matrix(logsigma, "logsigma")
    check_same_rows(mu=mu_arr, logsigma=logsigma_arr)
    check_same_columns(z=z_arr, mu=mu_arr, logsigma=logsigma_arr)
    n = mu_arr.shape[0]
    if leave_own_out:
        check_same_rows(z=z_arr, mu=mu_arr)
        if n < 2:
            msg = "leave_own_out needs at least two cells"
            raise ValueError(msg)
    lse = log_mixture_joint(
        z_arr, mu_arr, logsigma_arr, leave_own_out=leave_own_out, float64=float64
    )
    if not np.isfinite(lse).all():
        msg = (
            "the log-mixture underflowed for some samples (they lie extremely far from every "
            "posterior); use float64=True"
        )
        raise ValueError(msg)
    return float(np.mean(np.log(n - 1 if leave_own_out else n) - lse))


def delta_h(
    z_fake: ArrayLike,
    z_real: ArrayLike,
    mu: ArrayLike,
    logsigma: ArrayLike,
    *,
    leave_own_out: bool = False,
    float64: bool = True,
) -> float:
    r"""Entropy gap between predicted and real codes: ``H(tau_fake, g) - H(tau_real, g)``.

    Both terms use :func:`latent_entropy` with the same mixture g = the held-out real cells'
    posteriors ``(mu, logsigma)``. Positive values mean the prediction is less concentrated
    where real cells are.

    Parameters
    ----------
    z_fake
        ``[predicted cells, latents]``: codes from latent arithmetic.
    z_real
        ``[cells, latents]``: codes of the held-out real cells (posterior samples for sampled
        representations, means for mean representations), row n from posterior n.
    mu, logsigma
        ``[cells, latents]``: posteriors of the held-out real cells.
    leave_own_out
        Leave each real code's own posterior out of its term (:func:`latent_entropy`). The
        paper's estimator (``False``) is biased upwards: in reference case D1 the prediction
        is distributed exactly like the real codes, yet ``delta_h = 4.96`` nats; leaving the
        own posterior out gives -0.33.
    float64
        See :func:`latent_entropy`.

    Returns
    -------
    float
        Delta H in nats.

    Notes
    -----
    Reference: Yu & Welch (2021) section 2.3 and Fig. 4; MichiGAN ``latent_space_entropies``.
    Combinations with different cell counts are not comparable (``log N``); subsample to a
    common N first.
    """
    z_fake_arr = as_float64_matrix(z_fake, "z_fake")
    z_real_arr = as_float64_matrix(z_real, "z_real")
    check_same_rows(z_real=z_real_arr, mu=as_float64_matrix(mu, "mu"))
    h_fake = latent_entropy(z_fake_arr, mu, logsigma, float64=float64)
    h_real = latent_entropy(z_real_arr, mu, logsigma, leave_own_out=leave_own_out, float64=float64)
    logger.info("latent entropy: fake %.4f, real %.4f nats", h_fake, h_real)
    return h_fake - h_real
