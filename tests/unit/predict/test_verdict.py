"""Verdicts of the held-out tests: floor, trained-on, tie and pair gates, then the paper's outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from michigan.predict.summary import (
    average_over_seeds,
    comparison_tests,
    delta_h_hypothesis,
    paired_predictions,
)
from michigan.predict.tasks import CEILING, FLOOR
from michigan.predict.verdict import Gates, judge, paper_expects_significance

CLEAR = {"rf_medians": {"michigan": 0.4, "btcvae": 0.3}, "trained_on_rf_error": 0.4}


@pytest.mark.parametrize(
    ("kwargs", "verdict", "reason"),
    [
        ({"p_value": 1e-5, "expect_significant": True}, "reproduced", "p = 1e-05 < 0.05"),
        ({"p_value": 0.3, "expect_significant": True}, "not reproduced", ">= 0.05"),
        ({"p_value": 0.3, "expect_significant": False}, "reproduced", "reports none"),
        ({"p_value": 0.01, "expect_significant": False}, "not reproduced", "< 0.05"),
        # the floor: an arm's median RF error under 0.1
        (
            {"p_value": 1e-5, "expect_significant": True, "rf_medians": {"btcvae": 0.03}},
            "uninformative",
            "floor",
        ),
        # MichiGAN floored on the combinations it was trained on
        (
            {"p_value": 1e-5, "expect_significant": True, **CLEAR, "trained_on_rf_error": 0.02},
            "uninformative",
            "undertrained",
        ),
        # ties: 6 of 20 pairs tie
        (
            {"p_value": 1e-5, "expect_significant": True, "n_nonzero": 14},
            "uninformative",
            "6 of 20 pairs tie",
        ),
        (
            {"p_value": 0.5, "expect_significant": False, "n_nonzero": 5},
            "uninformative",
            "5 untied",
        ),
    ],
)
def test_judge(kwargs, verdict, reason):
    arguments = {"n": 20, "n_nonzero": 20, **CLEAR} | kwargs
    if "rf_medians" in kwargs and "trained_on_rf_error" not in kwargs:
        arguments["trained_on_rf_error"] = 0.4
    result = judge(**arguments)
    assert result["verdict"] == verdict
    assert reason in result["reason"]


def test_other_metrics_skip_the_floor_gate_but_not_the_training_gate():
    trained = {"n": 20, "n_nonzero": 20, "expect_significant": True, "trained_on_rf_error": 0.3}
    assert judge(p_value=1e-3, **trained)["verdict"] == "reproduced"
    assert judge(p_value=None, **trained)["verdict"] == "uninformative"
    undertrained = trained | {"trained_on_rf_error": 0.01}
    assert "undertrained" in judge(p_value=1e-3, **undertrained)["reason"]
    unchecked = trained | {"trained_on_rf_error": None}
    assert "cannot be checked" in judge(p_value=1e-3, **unchecked)["reason"]


def test_the_paper_expects_significance_on_sampled_codes_only():
    assert paper_expects_significance("sampled")
    assert not paper_expects_significance("mean")
    with pytest.raises(ValueError, match="'median'"):
        paper_expects_significance("median")


def table(rf, *, held_out=None, seed=0):
    """Prediction table: prediction i has RF errors rf[i] = (btcvae, btcvae_none, michigan)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, errors in enumerate(rf):
        decoders = ("btcvae", "btcvae_none", "michigan", FLOOR, CEILING)
        for decoder, error in zip(decoders, (*errors, 0.01, 0.5), strict=True):
            rows.append(
                {
                    "condition": f"T{i}-d",
                    "cell_type": f"T{i}",
                    "drug": "d",
                    "control_cell_type": "C",
                    "held_out": i < 3 if held_out is None else held_out,
                    "codes": "sampled",
                    "decoder": decoder,
                    "delta_h": float(i),
                    "delta_h_leave_own_out": float(i) - 1,
                    "rf_error": error,
                    "edistance": 1.0 - error + rng.normal(scale=0.01),
                }
            )
    return pd.DataFrame(rows)


def test_comparison_tests_cover_every_arm_metric_and_scope_with_references():
    rf = [(0.2, 0.3, 0.2 + 0.01 * (i + 1)) for i in range(12)]
    tests = comparison_tests(paired_predictions(table(rf)), code_mode="sampled")
    assert len(tests) == 2 * 2 * 2  # rf_error, edistance x btcvae, btcvae_none x all, held_out
    by_key = {(t["metric"], t["arm"], t["scope"]): t for t in tests}
    paper = by_key[("rf_error", "btcvae", "all")]
    assert paper["median_floor"] == 0.01
    assert paper["median_ceiling"] == 0.5
    assert paper["verdict"] == "reproduced"  # MichiGAN above in all 12 pairs
    assert paper["p_value"] < 1e-3
    # against the noiseless arm MichiGAN is mostly below: the paper's ordering fails
    assert by_key[("rf_error", "btcvae_none", "all")]["verdict"] == "not reproduced"
    # E-distance: smaller is better, MichiGAN's is smaller where its RF error is larger
    assert by_key[("edistance", "btcvae", "all")]["alternative"] == "michigan < btcvae"
    assert by_key[("edistance", "btcvae", "all")]["verdict"] == "reproduced"
    assert by_key[("rf_error", "btcvae", "held_out")]["verdict"] == "uninformative"  # 3 pairs


def test_comparison_tests_at_the_floor_are_uninformative():
    rf = [(0.0, 0.0, 0.005 * (i % 3)) for i in range(12)]
    tests = comparison_tests(paired_predictions(table(rf)), code_mode="sampled")
    paper = next(t for t in tests if t["metric"] == "rf_error" and t["arm"] == "btcvae")
    assert paper["verdict"] == "uninformative"
    assert "tie" in paper["reason"]


def test_delta_h_hypothesis_is_one_sided_negative():
    delta_h = np.arange(12.0)
    negative = delta_h_hypothesis(delta_h, -delta_h, **CLEAR)
    assert negative["sign"] == "negative"
    assert negative["p_value"] < 1e-3
    assert negative["verdict"] == "reproduced"
    positive = delta_h_hypothesis(delta_h, delta_h, **CLEAR)
    assert positive["sign"] == "positive"
    assert positive["p_value"] > 0.99  # one-sided: a positive rho is no evidence
    assert positive["verdict"] == "not reproduced"
    floored = delta_h_hypothesis(delta_h, -delta_h, rf_medians={"btcvae": 0.0})
    assert floored["verdict"] == "uninformative"
    assert (
        delta_h_hypothesis([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], gates=Gates(min_pairs=1))["sign"]
        is None
    )


def test_average_over_seeds_keeps_one_pair_per_prediction():
    rf = [(0.2, 0.3, 0.4)] * 4
    first, second = table(rf, seed=0), table(rf, seed=1)
    second["rf_error"] += 0.1
    averaged = average_over_seeds([first, second])
    assert len(averaged) == len(first)
    assert list(averaged.columns) == list(first.columns)
    np.testing.assert_allclose(averaged["rf_error"], first["rf_error"] + 0.05)
    with pytest.raises(ValueError, match="other tasks"):
        average_over_seeds([first, first.iloc[:-5]])
