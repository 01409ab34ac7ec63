from __future__ import annotations

import math

import pandas as pd
import pytest

from michigan.report.orderings import CLAIMS, CLOSE, check_claims
from michigan.report.paper import TABLE1, TABLE3


def paper_table(paper, ours=None):
    """A comparison table holding the paper's values and, optionally, ours."""
    rows = [
        {"dataset": d, "model": m, "metric": k, "paper": v, "mean": (ours or {}).get((d, m, k))}
        for (d, m, k), v in paper.items()
    ]
    return pd.DataFrame(rows)


def test_every_claim_holds_for_the_papers_own_values():
    checked = check_claims([paper_table(TABLE1), paper_table(TABLE3)])
    assert len(checked) == len(CLAIMS) * 2  # linear and non-linear simulation
    assert checked["paper_holds"].all()
    assert checked["ours_hold"].isna().all()  # no values of ours given


def test_a_reversed_ordering_of_ours_is_reported():
    ours = {key: value for key, value in {**TABLE1, **TABLE3}.items()}
    ours[("simulated/linear", "btcvae", "mig")] = 0.1  # below the VAE's 0.53
    checked = check_claims([paper_table(TABLE1, ours), paper_table(TABLE3, ours)])
    row = checked[(checked.dataset == "simulated/linear") & checked.claim.str.contains("MIG")]
    assert not row["ours_hold"].item()
    assert checked["ours_hold"].sum() == len(checked) - 1


@pytest.mark.parametrize(("left", "right", "holds"), [(0.22, 0.25, True), (0.1, 0.25, False)])
def test_close_means_within_the_stated_margin(left, right, holds):
    (close,) = [claim for claim in CLAIMS if claim.relation == "close"]
    assert close.holds(left, right) is holds
    assert math.isclose(CLOSE, 0.05)
