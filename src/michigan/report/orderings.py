"""The paper's conclusions from Tables 1-3 and Fig. 4, checked on our values: holds, fails or uninformative.

Absolute values depend on the scale of a run (the quick preset trains for minutes, the paper for
1000 epochs), but the paper's conclusions are orderings between models and the outcome of its
held-out Wilcoxon tests. Each table claim is checked per dataset on the means over seeds and their
95 % intervals (:func:`michigan.report.tables.summarise_over_seeds`):

- ``greater``: *holds* when the difference left - right exceeds the interval half-width of the
  difference, sqrt(ci_left^2 + ci_right^2) (the models are trained on independent seeds' draws);
  *fails* when it is below minus that half-width; *uninformative* in between, or with one seed (no
  interval tells the ordering from seed noise);
- ``close``: *holds* when |difference| plus the half-width is at most :data:`CLOSE`, *fails* when
  |difference| minus the half-width exceeds it, *uninformative* otherwise.

The point estimate (means only) is reported beside the verdict. The paper's own values are checked
the same way (on their means: the paper gives no intervals). The held-out claims take the verdict of
the seed-averaged test (:mod:`michigan.predict.verdict`): reproduced -> holds, not reproduced ->
fails, uninformative -> uninformative.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: two Spearman gaps count as close when they differ by at most this (the paper's MichiGAN and
#: beta-TCVAE gaps differ by 0.02 and 0.03)
CLOSE = 0.05
HOLDS, FAILS, UNINFORMATIVE = "holds", "fails", "uninformative"
#: verdict of a held-out test -> status of the claim
_FROM_VERDICT = {"reproduced": HOLDS, "not reproduced": FAILS, "uninformative": UNINFORMATIVE}
COLUMNS = (
    "claim",
    "source",
    "dataset",
    "ours",
    "reason",
    "ours_left",
    "ours_left_ci95",
    "ours_right",
    "ours_right_ci95",
    "n_seeds",
    "point_estimate",
    "paper_left",
    "paper_right",
    "paper_holds",
)


@dataclasses.dataclass(frozen=True)
class Claim:
    """``left`` > ``right`` (``relation="greater"``) or ``|left - right| <= CLOSE`` ("close")."""

    text: str
    source: str
    metric: str
    left: str
    right: str
    relation: str = "greater"

    def holds(self, left: float, right: float) -> bool:
        """Whether the claim holds for these two values (point estimates)."""
        if self.relation == "close":
            return abs(left - right) <= CLOSE
        return left > right

    def judge(self, left: float, right: float, half_width: float) -> tuple[str, str]:
        """Holds, fails or uninformative, given the half-width of the difference's interval."""
        if not math.isfinite(half_width):
            return UNINFORMATIVE, "one seed: no interval tells the ordering from seed noise"
        difference = left - right
        if self.relation == "close":
            if abs(difference) + half_width <= CLOSE:
                return HOLDS, f"|difference| {abs(difference):.3f} ± {half_width:.3f} <= {CLOSE}"
            if abs(difference) - half_width > CLOSE:
                return FAILS, f"|difference| {abs(difference):.3f} ± {half_width:.3f} > {CLOSE}"
            return UNINFORMATIVE, (
                f"|difference| {abs(difference):.3f} ± {half_width:.3f} straddles {CLOSE}"
            )
        if difference - half_width > 0:
            return HOLDS, f"difference {difference:+.3f} ± {half_width:.3f} above 0"
        if difference + half_width < 0:
            return FAILS, f"difference {difference:+.3f} ± {half_width:.3f} below 0"
        return UNINFORMATIVE, f"difference {difference:+.3f} ± {half_width:.3f} includes 0"


_NAMES = {
    "ppca": "PPCA",
    "vae": "VAE",
    "btcvae": "β-TCVAE",
    "wgan_gp": "WGAN-GP",
    "infowgan_gp": "InfoWGAN-GP",
    "michigan_mean": "MichiGAN",
}


def _greater(source: str, metric: str, name: str, left: str, right: str) -> Claim:
    text = f"{_NAMES[left]}'s {name} above {_NAMES[right]}'s ({source})"
    return Claim(text, source, metric, left, right)


CLAIMS = (
    *(
        _greater("Table 1", metric, name, "btcvae", other)
        for metric, name in (("mig", "MIG"), ("factorvae_score", "FactorVAE score"))
        for other in ("ppca", "vae")
    ),
    *(
        _greater("Table 3", "spearman_gap", "Spearman gap", "michigan_mean", other)
        for other in ("wgan_gp", "infowgan_gp")
    ),
    Claim(
        f"MichiGAN's Spearman gap within {CLOSE} of its β-TCVAE's (Table 3)",
        "Table 3",
        "spearman_gap",
        "michigan_mean",
        "btcvae",
        "close",
    ),
    _greater("Table 2", "rf_error", "RF error", "michigan_mean", "btcvae"),
    *(
        _greater("Table 2", metric, name, "wgan_gp", other)
        for metric, name in (("rf_error", "RF error"), ("inception_score", "inception score"))
        for other in ("vae", "btcvae")
    ),
)

#: the held-out claims (Fig. 4a): code mode -> the paper's statement
HELDOUT_CLAIMS = {
    "sampled": "MichiGAN's RF errors above β-TCVAE's on sampled codes "
    "(one-sided Wilcoxon; paper p < 1e-4)",
    "mean": "No significant RF-error difference on posterior means (paper p > 0.05)",
}


def check_claims(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One row per table claim and dataset with our values, the paper's, and the verdicts.

    Parameters
    ----------
    tables
        Comparison tables (:func:`michigan.report.tables.compare_with_paper`) with columns
        ``dataset``, ``model``, ``metric``, ``mean``, ``ci95``, ``n_seeds`` and ``paper``.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: ``ours`` is holds, fails or uninformative (with ``reason``); claims
        without a value of ours are uninformative ("no value"); claims on a dataset neither we
        nor the paper have are left out.
    """
    given = list(tables)
    if not given:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = pd.concat(given, ignore_index=True).drop_duplicates(["dataset", "model", "metric"])
    indexed = frame.set_index(["dataset", "model", "metric"])
    rows = []
    for claim in CLAIMS:
        for dataset in sorted(frame["dataset"].unique()):
            keys = [(dataset, claim.left, claim.metric), (dataset, claim.right, claim.metric)]
            if not all(key in indexed.index for key in keys):
                continue
            left, right = (indexed.loc[key] for key in keys)
            rows.append(_table_row(claim, dataset, left, right))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _table_row(claim: Claim, dataset: str, left: pd.Series, right: pd.Series) -> dict[str, Any]:
    ours = pd.notna(left["mean"]) and pd.notna(right["mean"])
    paper = pd.notna(left["paper"]) and pd.notna(right["paper"])
    if ours:
        half_width = math.hypot(_ci(left), _ci(right))
        status, reason = claim.judge(left["mean"], right["mean"], half_width)
    else:
        status, reason = UNINFORMATIVE, "no value of ours"
    return {
        "claim": claim.text,
        "source": claim.source,
        "dataset": dataset,
        "ours": status,
        "reason": reason,
        "ours_left": left["mean"],
        "ours_left_ci95": left.get("ci95"),
        "ours_right": right["mean"],
        "ours_right_ci95": right.get("ci95"),
        "n_seeds": min(left.get("n_seeds", 0) or 0, right.get("n_seeds", 0) or 0),
        "point_estimate": (HOLDS if claim.holds(left["mean"], right["mean"]) else FAILS)
        if ours
        else None,
        "paper_left": left["paper"],
        "paper_right": right["paper"],
        "paper_holds": claim.holds(left["paper"], right["paper"]) if paper else None,
    }


def _ci(row: pd.Series) -> float:
    value = row.get("ci95")
    return float(value) if value is not None and pd.notna(value) else math.inf


def check_heldout_claims(verdicts: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per held-out claim and dataset, from the seed-averaged tests.

    Parameters
    ----------
    verdicts
        Dataset -> code mode -> the seed-averaged summary of that code mode
        (``verdicts.json`` of the ``prediction-verdicts`` stage).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; ``ours_left`` and ``ours_right`` are MichiGAN's and beta-TCVAE's median RF
        errors, ``n_seeds`` the seeds averaged.
    """
    rows = []
    for dataset, by_mode in sorted(verdicts.items()):
        for mode, summary in sorted(by_mode.items(), reverse=True):
            test = next(
                t
                for t in summary["tests"]
                if t["metric"] == "rf_error"
                and t["arm"] == summary["decoders"]["representation"]
                and t["scope"] == "all"
            )
            rows.append(
                {
                    "claim": HELDOUT_CLAIMS[mode],
                    "source": "Fig. 4a",
                    "dataset": dataset,
                    "ours": _FROM_VERDICT[test["verdict"]],
                    "reason": test["reason"],
                    "ours_left": test["median_generator"],
                    "ours_right": test["median_arm"],
                    "n_seeds": len(summary.get("seeds", [])),
                    "paper_holds": True,
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def to_markdown(checked: pd.DataFrame) -> str:
    """Render the checked claims as Markdown: claim, dataset, verdict, reason and the values."""
    shown = checked.copy()
    for side in ("left", "right"):
        shown[f"ours ({side})"] = [
            "–" if pd.isna(m) else (f"{m:.3f}" if pd.isna(c) else f"{m:.3f} ± {c:.3f}")
            for m, c in zip(shown[f"ours_{side}"], shown[f"ours_{side}_ci95"], strict=True)
        ]
        shown[f"paper ({side})"] = [
            "–" if pd.isna(v) else f"{v:.3f}" for v in shown[f"paper_{side}"]
        ]
    columns = ["claim", "dataset", "ours", "reason", "ours (left)", "ours (right)", "n_seeds"]
    columns += ["point_estimate", "paper (left)", "paper (right)", "paper_holds"]
    shown = shown[columns].astype(object).where(shown[columns].notna(), "–")
    return shown.to_markdown(index=False, disable_numparse=True)
