"""The paper's qualitative claims about Tables 1 and 3, checked on our values.

Absolute values depend on the scale of a run (the quick preset trains for minutes, the paper for
1000 epochs), but the paper's conclusions are orderings between models. Each claim below is
checked per dataset on the means over seeds of the comparison tables, and the paper's own values are
checked the same way, so a reader sees which conclusions a run reproduces.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable

#: two Spearman gaps count as close when they differ by at most this (the paper's MichiGAN and
#: beta-TCVAE gaps differ by 0.02 and 0.03)
CLOSE = 0.05


@dataclasses.dataclass(frozen=True)
class Claim:
    """``left`` > ``right`` (``relation="greater"``) or ``|left - right| <= CLOSE`` ("close")."""

    text: str
    metric: str
    left: str
    right: str
    relation: str = "greater"

    def holds(self, left: float, right: float) -> bool:
        """Whether the claim holds for these two values."""
        if self.relation == "close":
            return abs(left - right) <= CLOSE
        return left > right


CLAIMS = (
    Claim("β-TCVAE's MIG above the VAE's (Table 1)", "mig", "btcvae", "vae"),
    Claim(
        "β-TCVAE's FactorVAE score above the VAE's (Table 1)", "factorvae_score", "btcvae", "vae"
    ),
    Claim(
        "MichiGAN's Spearman gap above WGAN-GP's (Table 3)",
        "spearman_gap",
        "michigan_mean",
        "wgan_gp",
    ),
    Claim(
        "MichiGAN's Spearman gap above InfoWGAN-GP's (Table 3)",
        "spearman_gap",
        "michigan_mean",
        "infowgan_gp",
    ),
    Claim(
        f"MichiGAN's Spearman gap within {CLOSE} of its β-TCVAE's (Table 3)",
        "spearman_gap",
        "michigan_mean",
        "btcvae",
        "close",
    ),
)


def check_claims(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One row per claim and dataset: our two values, the paper's two values, and whether each holds.

    Parameters
    ----------
    tables
        Comparison tables (:func:`michigan.report.tables.compare_with_paper`) with columns
        ``dataset``, ``model``, ``metric``, ``mean`` and ``paper``.

    Returns
    -------
    Columns ``claim``, ``dataset``, ``ours_left``, ``ours_right``, ``ours_hold`` (NaN where we
    lack a value), ``paper_left``, ``paper_right``, ``paper_holds``.
    """
    frame = pd.concat(list(tables), ignore_index=True).drop_duplicates(
        ["dataset", "model", "metric"]
    )
    indexed = frame.set_index(["dataset", "model", "metric"])
    rows = []
    for claim in CLAIMS:
        for dataset in sorted(frame["dataset"].unique()):
            keys = [(dataset, claim.left, claim.metric), (dataset, claim.right, claim.metric)]
            if not all(key in indexed.index for key in keys):
                continue
            (ours_left, paper_left), (ours_right, paper_right) = (
                indexed.loc[key, ["mean", "paper"]] for key in keys
            )
            ours = pd.notna(ours_left) and pd.notna(ours_right)
            rows.append(
                {
                    "claim": claim.text,
                    "dataset": dataset,
                    "ours_left": ours_left,
                    "ours_right": ours_right,
                    "ours_hold": claim.holds(ours_left, ours_right) if ours else float("nan"),
                    "paper_left": paper_left,
                    "paper_right": paper_right,
                    "paper_holds": claim.holds(paper_left, paper_right),
                }
            )
    return pd.DataFrame(rows)
