"""Verdicts of the held-out tests: reproduced, not reproduced, or uninformative (and why).

The paper claims that MichiGAN's predictions of unseen combinations are harder to tell from real
cells than the beta-TCVAE decoder's: a one-sided paired Wilcoxon test with p < 1e-4 on sampled
codes and p > 0.05 on posterior means (section 2.4, Fig. 4a). A p-value alone cannot say whether a
run could have shown that: when a random forest tells every prediction from the real cells (RF
error near 0, the *floor*), the errors of both decoders tie at 0 and the test has nothing to rank.
:func:`judge` turns a test into ``reproduced``, ``not reproduced`` or ``uninformative`` with its
reason, checking these gates first, in this order (thresholds in :class:`Gates`, docs/prediction.md):

1. enough pairs that are not tied (``min_pairs``): fewer cannot reach the significance level in the
   sampled case and cannot show its absence in the mean case;
2. not too many tied pairs (``max_tie_share``);
3. (RF error) every compared arm's median RF error at least ``rf_floor``;
4. (every metric) MichiGAN's median RF error on the combinations it was trained on at least
   ``rf_floor``: a generator that cannot reproduce cells it has seen is undertrained, and its
   failure on unseen ones says nothing about latent arithmetic, whichever metric shows it.

A test that passes the gates is ``reproduced`` when its outcome agrees with the paper's (significant
at ``alpha`` where the paper reports a significant difference, not significant where it reports
none), ``not reproduced`` otherwise.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

REPRODUCED, NOT_REPRODUCED, UNINFORMATIVE = "reproduced", "not reproduced", "uninformative"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, UNINFORMATIVE)


@dataclasses.dataclass(frozen=True)
class Gates:
    """Thresholds of :func:`judge` (docs/prediction.md, "Verdicts").

    Attributes
    ----------
    alpha
        Significance level of every one-sided test.
    rf_floor
        Median RF error below which an arm counts as at the floor (a forest tells nine in ten
        cells apart; the real-vs-real ceiling is 0.5).
    max_tie_share
        Largest share of tied (zero-difference) pairs a Wilcoxon test may drop.
    min_pairs
        Fewest untied pairs (or points of a correlation) a test needs.
    """

    alpha: float = 0.05
    rf_floor: float = 0.1
    max_tie_share: float = 0.2
    min_pairs: int = 10


GATES = Gates()


def paper_expects_significance(code_mode: str) -> bool:
    """Whether the paper reports a significant Wilcoxon test for ``code_mode`` (sampled: yes)."""
    if code_mode not in ("mean", "sampled"):
        msg = f"code mode must be 'mean' or 'sampled', got {code_mode!r}"
        raise ValueError(msg)
    return code_mode == "sampled"


def judge(
    *,
    n: int,
    n_nonzero: int,
    p_value: float | None,
    expect_significant: bool,
    rf_medians: Mapping[str, float] | None = None,
    trained_on_rf_error: float | None = None,
    gates: Gates = GATES,
) -> dict[str, Any]:
    """The verdict of one test and its reason.

    Parameters
    ----------
    n, n_nonzero
        Pairs (or points) and the untied ones among them (``n`` for a correlation).
    p_value
        One-sided p-value (``None`` when not computable).
    expect_significant
        Whether the paper reports this test significant.
    rf_medians
        For a test on RF errors (or on their difference): compared arm -> its median RF error;
        ``None`` for other metrics (no floor gate).
    trained_on_rf_error
        MichiGAN's median RF error on the combinations it was trained on; ``None`` when no such
        combination was predicted (the gate cannot be checked: uninformative).
    gates
        Thresholds.

    Returns
    -------
    dict
        ``verdict`` (one of :data:`VERDICTS`) and ``reason`` (a sentence with the numbers).
    """
    ties = n - n_nonzero
    if n_nonzero < gates.min_pairs:
        return _verdict(UNINFORMATIVE, f"{n_nonzero} untied pairs, fewer than {gates.min_pairs}")
    if ties > gates.max_tie_share * n:
        return _verdict(
            UNINFORMATIVE,
            f"{ties} of {n} pairs tie (more than {gates.max_tie_share:.0%})",
        )
    if rf_medians is not None:
        floored = {arm: m for arm, m in rf_medians.items() if m is None or not m >= gates.rf_floor}
        if floored:
            listed = ", ".join(
                f"{arm} {'none' if m is None else f'{m:.3f}'}" for arm, m in floored.items()
            )
            return _verdict(
                UNINFORMATIVE,
                f"median RF error at the floor (< {gates.rf_floor}): {listed}",
            )
    if trained_on_rf_error is None:
        return _verdict(
            UNINFORMATIVE,
            "no trained-on combination predicted, so MichiGAN's training cannot be checked",
        )
    if not trained_on_rf_error >= gates.rf_floor:
        return _verdict(
            UNINFORMATIVE,
            f"MichiGAN's median RF error on trained-on combinations is "
            f"{trained_on_rf_error:.3f} < {gates.rf_floor}: undertrained",
        )
    if p_value is None:
        return _verdict(UNINFORMATIVE, "no p-value")
    significant = p_value < gates.alpha
    outcome = f"p = {p_value:.2g} {'<' if significant else '>='} {gates.alpha}"
    paper = (
        "the paper reports a significant difference"
        if expect_significant
        else ("the paper reports none")
    )
    agrees = significant == expect_significant
    return _verdict(REPRODUCED if agrees else NOT_REPRODUCED, f"{outcome}; {paper}")


def _verdict(verdict: str, reason: str) -> dict[str, Any]:
    return {"verdict": verdict, "reason": reason}
