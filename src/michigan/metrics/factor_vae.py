"""FactorVAE disentanglement score (Kim & Mnih 2018), as in disentanglement_lib, with replayable draws."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from michigan.metrics.checks import as_float64_matrix, check_choice, check_same_rows, encode_factors

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

FactorVAEVariant = Literal["dlib", "michigan_code"]
FACTOR_VAE_VARIANTS: tuple[str, ...] = ("dlib", "michigan_code")


class FactorVAEDraws(NamedTuple):
    """The random draws behind one FactorVAE score; replaying them reproduces it exactly.

    Attributes
    ----------
    variance_cells
        ``[n_var]``: cells whose codes give the global variance of each latent.
    train_factor, eval_factor
        ``[n_train]``, ``[n_eval]``: the factor held fixed in each vote.
    train_cells, eval_cells
        ``[n_train, batch]``, ``[n_eval, batch]``: the cells of each vote's batch.
    """

    variance_cells: np.ndarray
    train_factor: np.ndarray
    train_cells: np.ndarray
    eval_factor: np.ndarray
    eval_cells: np.ndarray


class FactorVAEResult(NamedTuple):
    """Accuracies and vote tables of a FactorVAE evaluation.

    Attributes
    ----------
    eval_accuracy
        The FactorVAE score: share of held-out votes the majority-vote classifier gets right.
    train_accuracy
        The same on the votes that built the classifier.
    train_votes, eval_votes
        ``[factors, latents]`` counts of (fixed factor, chosen latent) pairs.
    active_latents
        ``[latents]`` mask of the latents that took part (not pruned).
    """

    eval_accuracy: float
    train_accuracy: float
    train_votes: np.ndarray
    eval_votes: np.ndarray
    active_latents: np.ndarray


def sample_factor_vae_draws(
    factors: ArrayLike,
    *,
    seed: int,
    variant: FactorVAEVariant = "dlib",
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    n_var: int = 10_000,
) -> FactorVAEDraws:
    """Draw the cells of every FactorVAE vote from an observed table of factors.

    Parameters
    ----------
    factors
        ``[cells, factors]``: discrete ground-truth factors.
    seed
        Seed of the ``numpy.random.Generator`` that makes every draw.
    variant
        ``"dlib"``: the fixed factor is uniform, its value is that of a uniformly drawn cell,
        and the batch is drawn with replacement from the cells with that value; the global
        variance uses ``n_var`` cells drawn with replacement. ``"michigan_code"``: the value is
        uniform among the factor's levels, the batch is drawn without replacement, and the
        global variance uses all cells (``n_var`` is ignored).
    batch_size
        Cells per vote (disentanglement_lib: 64; MichiGAN's ``L_samples``: 40).
    n_train, n_eval
        Votes that build the classifier and votes that score it (disentanglement_lib:
        10,000 / 5,000; MichiGAN: 8,000 / 2,000 of its 10,000).
    n_var
        Cells for the global variance (disentanglement_lib ``num_variance_estimate``).

    Returns
    -------
    FactorVAEDraws
        Cell indices into the rows of ``factors``.

    Notes
    -----
    disentanglement_lib samples all factors and renders an observation for them; on a cell
    table the equivalent is a random cell with the fixed factor's value, which matches it
    when the factors are independent (shared recommendation, ``docs/metrics.md`` 3.5).
    """
    check_choice(variant, "variant", FACTOR_VAE_VARIANTS)
    groups = encode_factors(factors)
    n_cells, n_factors = groups.shape
    if batch_size < 2 or min(n_train, n_eval, n_var) < 1:
        msg = (
            f"batch_size must be >= 2 and n_train, n_eval, n_var >= 1; got batch_size="
            f"{batch_size}, n_train={n_train}, n_eval={n_eval}, n_var={n_var}"
        )
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    # for each factor, the cells sorted by level and each level's [start, count) in that order
    order = np.argsort(groups, axis=0, kind="stable")
    counts = [np.bincount(groups[:, k]) for k in range(n_factors)]
    starts = [np.concatenate([[0], np.cumsum(c)[:-1]]) for c in counts]
    if variant == "michigan_code":
        smallest = min(int(c.min()) for c in counts)
        if smallest < batch_size:
            msg = (
                f"variant 'michigan_code' draws {batch_size} cells without replacement, but a "
                f"factor level has only {smallest} cells"
            )
            raise ValueError(msg)
        variance_cells = np.arange(n_cells)
    else:
        variance_cells = rng.integers(0, n_cells, n_var)

    def votes(n_votes: int) -> tuple[np.ndarray, np.ndarray]:
        fixed = rng.integers(0, n_factors, n_votes)
        cells = np.empty((n_votes, batch_size), dtype=np.int64)
        for k in range(n_factors):
            rows = np.flatnonzero(fixed == k)
            if variant == "dlib":
                level = groups[rng.integers(0, n_cells, rows.size), k]
                offset = rng.integers(0, counts[k][level][:, None], (rows.size, batch_size))
            else:
                level = rng.integers(0, counts[k].size, rows.size)
                offset = np.stack(
                    [rng.choice(counts[k][lv], batch_size, replace=False) for lv in level]
                ).reshape(rows.size, batch_size)
            cells[rows] = order[starts[k][level][:, None] + offset, k]
        return fixed, cells

    train_factor, train_cells = votes(n_train)
    eval_factor, eval_cells = votes(n_eval)
    return FactorVAEDraws(variance_cells, train_factor, train_cells, eval_factor, eval_cells)


def factor_vae_votes(
    mu: ArrayLike,
    draws: FactorVAEDraws,
    *,
    n_factors: int,
    variant: FactorVAEVariant = "dlib",
    prune: float = 0.05,
) -> FactorVAEResult:
    r"""Cast the FactorVAE votes of given draws and score the majority-vote classifier.

    For each vote with fixed factor k and batch B, the chosen latent is

    .. math::

        j^* = \arg\min_{j\,\mathrm{active}} \frac{\mathrm{Var}_{B}(\mu_j)}{\mathrm{Var}(\mu_j)}

    (``variant="dlib"``; ``"michigan_code"`` takes the argmax). The classifier maps each latent to
    the factor it was most often chosen for (``argmax`` over factors of the training vote table),
    and an accuracy is the share of votes whose latent maps back to their factor.

    Parameters
    ----------
    mu
        ``[cells, latents]``: posterior means (disentanglement_lib's representation).
    draws
        From :func:`sample_factor_vae_draws`, or recorded ones (reference vectors).
    n_factors
        Number of factors (rows of the vote tables).
    variant
        ``"dlib"``: active latents have global std >= ``prune``; a latent without training votes
        maps to factor 0 (the library's argmax of zeros). ``"michigan_code"``: as coded in
        MichiGAN's ``FactorVAEMetric``, the argmax of the normalised spread (a known bug: it
        scores near chance on a perfect code), no pruning except latents of zero spread, and a
        latent without training votes counts as wrong.
    prune
        Global standard deviation below which a latent is inactive (``"dlib"`` only; the study
        configs use 0.05).

    Returns
    -------
    FactorVAEResult
        Accuracies 0 when no latent is active (as disentanglement_lib).

    Notes
    -----
    Variances use ``ddof=1`` as disentanglement_lib (MichiGAN: ddof 0 standard deviations); a
    constant factor across latents, so the chosen latents are the same either way.
    """
    check_choice(variant, "variant", FACTOR_VAE_VARIANTS)
    mu_arr = as_float64_matrix(mu, "mu")
    n_cells, n_latents = mu_arr.shape
    used = np.concatenate(
        [draws.variance_cells.ravel(), draws.train_cells.ravel(), draws.eval_cells.ravel()]
    )
    if used.min() < 0 or used.max() >= n_cells:
        msg = f"draws index cells outside 0..{n_cells - 1} (mu has {n_cells} rows)"
        raise ValueError(msg)
    global_var = np.var(mu_arr[draws.variance_cells], axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune if variant == "dlib" else global_var > 0
    empty = np.zeros((n_factors, n_latents), dtype=np.int64)
    if not active.any():
        logger.warning("FactorVAE: no latent has a global std above %g; score 0", prune)
        return FactorVAEResult(0.0, 0.0, empty, empty.copy(), active)
    latent_ids = np.flatnonzero(active)

    def tally(fixed: np.ndarray, cells: np.ndarray) -> np.ndarray:
        ratio = np.var(mu_arr[cells][:, :, active], axis=1, ddof=1) / global_var[active]
        pick = np.argmax(ratio, axis=1) if variant == "michigan_code" else np.argmin(ratio, axis=1)
        table = empty.copy()
        np.add.at(table, (fixed, latent_ids[pick]), 1)
        return table

    train_votes = tally(draws.train_factor, draws.train_cells)
    eval_votes = tally(draws.eval_factor, draws.eval_cells)
    classifier = np.argmax(train_votes, axis=0)
    seen = train_votes.sum(axis=0) > 0 if variant == "michigan_code" else np.ones(n_latents, bool)
    columns = np.arange(n_latents)

    def accuracy(votes: np.ndarray) -> float:
        return float(votes[classifier, columns][seen].sum() / votes.sum())

    return FactorVAEResult(
        accuracy(eval_votes), accuracy(train_votes), train_votes, eval_votes, active
    )


def factor_vae_score(
    mu: ArrayLike,
    factors: ArrayLike,
    *,
    seed: int | None = None,
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    n_var: int = 10_000,
    prune: float = 0.05,
    variant: FactorVAEVariant = "dlib",
    draws: FactorVAEDraws | None = None,
) -> float:
    """FactorVAE score: accuracy of predicting the fixed factor from the least-varying latent.

    Definition of Kim & Mnih (2018) as implemented in disentanglement_lib
    (``evaluation/metrics/factor_vae.py``): each vote fixes one factor over a batch of cells,
    divides each active latent's batch variance by its global variance and votes for the
    latent with the lowest ratio; a majority-vote classifier (latent -> factor) is built on
    ``n_train`` votes and the score is its accuracy on ``n_eval`` fresh votes.
    See :func:`sample_factor_vae_draws` and :func:`factor_vae_votes` for every step.

    Parameters
    ----------
    mu
        ``[cells, latents]``: posterior means (PC scores for PCA).
    factors
        ``[cells, factors]``: discrete ground-truth factors.
    seed
        Seed of the draws; required unless ``draws`` is given.
    batch_size, n_train, n_eval, n_var
        disentanglement_lib defaults 64, 10,000, 5,000, 10,000. For MichiGAN's code use
        ``batch_size=40, n_train=8000, n_eval=2000`` with ``variant="michigan_code"``.
    prune
        Latents with global std below it are ignored (study configs: 0.05).
    variant
        ``"dlib"`` (default, the paper's text and the standard definition) or
        ``"michigan_code"``: MichiGAN's ``FactorVAEMetric`` as coded, which takes the ARGMAX of
        the normalised spread, a known bug that scores near chance (1/factors) even on a
        perfect code; kept only to reproduce the original numbers (paper Table 1, 0.35-0.46).
    draws
        Recorded draws to replay (then ``seed`` and the size arguments are not used).

    Returns
    -------
    float
        Eval accuracy in [0, 1]; about 1 for a code with one latent per factor, 0 for a
        constant code (no active latent).

    Notes
    -----
    Deviation: disentanglement_lib renders observations from sampled factors; here a batch is
    drawn from the cells that share the fixed factor's value (equivalent for independent
    factors). The score is not axis-strict: a rotated or duplicated code can still score high.
    With 5,000 eval votes its binomial standard error is at most 0.007.
    """
    groups = encode_factors(factors)
    check_same_rows(mu=np.asarray(mu), factors=groups)
    if draws is None:
        if seed is None:
            msg = "factor_vae_score needs a seed (or recorded draws to replay)"
            raise ValueError(msg)
        draws = sample_factor_vae_draws(
            groups,
            seed=seed,
            variant=variant,
            batch_size=batch_size,
            n_train=n_train,
            n_eval=n_eval,
            n_var=n_var,
        )
    result = factor_vae_votes(mu, draws, n_factors=groups.shape[1], variant=variant, prune=prune)
    return result.eval_accuracy
