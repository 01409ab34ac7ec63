from __future__ import annotations

import math

import pandas as pd
import pytest

from michigan.report.orderings import (
    CLAIMS,
    CLOSE,
    check_claims,
    check_heldout_claims,
    to_markdown,
)
from michigan.report.paper import TABLE1, TABLE2, TABLE3

LINEAR = "simulated/linear"


def paper_table(paper, ours=None, ci=None, n_seeds=3):
    """A comparison table holding the paper's values and, optionally, ours with intervals."""
    rows = [
        {
            "dataset": d,
            "model": m,
            "metric": k,
            "paper": v,
            "mean": (ours or {}).get((d, m, k)),
            "ci95": ci,
            "n_seeds": n_seeds,
        }
        for (d, m, k), v in paper.items()
    ]
    return pd.DataFrame(rows)


def test_every_claim_holds_for_the_papers_own_values():
    checked = check_claims([paper_table(t) for t in (TABLE1, TABLE2, TABLE3)])
    # Table 1: 4 claims, Table 3: 3, on both simulations; Table 2: 1 on whole Tabula Muris (no
    # MichiGAN on the heart) and 4 on each Tabula Muris set
    assert len(checked) == 4 * 2 + 3 * 2 + 1 + 4 * 2
    assert {claim.text for claim in CLAIMS} == set(checked["claim"])
    assert checked["paper_holds"].all()
    assert (checked["ours"] == "uninformative").all()  # no values of ours given
    assert (checked["reason"] == "no value of ours").all()


def mig(btcvae, *, ci, n_seeds=3):
    ours = {**TABLE1, (LINEAR, "btcvae", "mig"): btcvae}
    checked = check_claims([paper_table(TABLE1, ours, ci=ci, n_seeds=n_seeds)])
    return checked[
        (checked.dataset == LINEAR) & (checked.claim == "β-TCVAE's MIG above VAE's (Table 1)")
    ].iloc[0]


@pytest.mark.parametrize(
    ("btcvae", "ci", "status", "point"),
    [
        (0.72, 0.05, "holds", "holds"),  # 0.72 - 0.53 = 0.19 > hypot(0.05, 0.05)
        (0.40, 0.05, "fails", "fails"),
        (0.56, 0.05, "uninformative", "holds"),  # 0.03 within the interval of the difference
        (0.72, None, "uninformative", "holds"),  # one seed: no interval
    ],
)
def test_an_ordering_needs_its_difference_beyond_the_seed_interval(btcvae, ci, status, point):
    row = mig(btcvae, ci=ci)
    assert row["ours"] == status
    assert row["point_estimate"] == point
    assert row["paper_holds"]


@pytest.mark.parametrize(
    ("michigan", "ci", "status"),
    [(0.24, 0.01, "holds"), (0.10, 0.01, "fails"), (0.20, 0.01, "uninformative")],
)
def test_close_means_the_interval_of_the_difference_within_the_margin(michigan, ci, status):
    ours = {**TABLE3, (LINEAR, "michigan_mean", "spearman_gap"): michigan}
    checked = check_claims([paper_table(TABLE3, ours, ci=ci)])
    row = checked[(checked.dataset == LINEAR) & checked.claim.str.contains("within")].iloc[0]
    # beta-TCVAE 0.25: |0.24 - 0.25| + 0.014 <= 0.05; |0.10 - 0.25| - 0.014 > 0.05; 0.05 +- 0.014
    assert row["ours"] == status
    assert math.isclose(CLOSE, 0.05)


def test_heldout_claims_follow_the_seed_averaged_verdicts():
    def summary(verdict):
        test = {
            "metric": "rf_error",
            "arm": "btcvae",
            "scope": "all",
            "verdict": verdict,
            "reason": "r",
            "median_generator": 0.3,
            "median_arm": 0.2,
        }
        other = test | {"arm": "btcvae_none", "verdict": "reproduced"}
        return {
            "decoders": {"representation": "btcvae"},
            "tests": [other, test],
            "seeds": [0, 1, 2],
        }

    checked = check_heldout_claims(
        {"screen": {"sampled": summary("uninformative"), "mean": summary("not reproduced")}}
    )
    assert list(checked["ours"]) == ["uninformative", "fails"]  # sampled first
    assert checked["claim"].iloc[0].startswith("MichiGAN's RF errors above")
    assert (checked["n_seeds"] == 3).all()
    text = to_markdown(checked)
    assert "uninformative" in text
    assert "0.300" in text
