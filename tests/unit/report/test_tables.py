from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from michigan.report.paper import TABLE1, TABLES
from michigan.report.tables import compare_with_paper, summarise_over_seeds, to_markdown


def records(values, *, dataset="simulated/linear", model="btcvae", metric="mig"):
    return [
        {"dataset": dataset, "model": model, "metric": metric, "seed": s, "value": v}
        for s, v in enumerate(values)
    ]


def test_mean_and_t_interval_over_seeds():
    values = [0.70, 0.74, 0.69, 0.75, 0.72]
    summary = summarise_over_seeds(records(values))
    row = summary.iloc[0]
    sd = np.std(values, ddof=1)
    # independent computation: t quantile for 4 degrees of freedom is 2.776
    assert row["mean"] == pytest.approx(np.mean(values))
    assert row["ci95"] == pytest.approx(stats.t.ppf(0.975, 4) * sd / math.sqrt(5))
    assert stats.t.ppf(0.975, 4) == pytest.approx(2.776, abs=1e-3)
    assert row["n_seeds"] == 5


def test_single_seed_has_no_interval():
    summary = summarise_over_seeds(records([0.5]))
    assert math.isnan(summary.iloc[0]["ci95"])


def test_comparison_keeps_every_paper_entry_and_computes_differences():
    summary = summarise_over_seeds(records([0.70, 0.74]))
    table = compare_with_paper(summary, "table1")
    assert len(table) == len(TABLE1)
    mig = table[
        (table.model == "btcvae") & (table.metric == "mig") & (table.dataset == "simulated/linear")
    ]
    assert mig["difference"].item() == pytest.approx(0.72 - 0.72)
    assert table["mean"].isna().sum() == len(TABLE1) - 1


def test_markdown_shows_mean_plus_minus_interval():
    table = compare_with_paper(summarise_over_seeds(records([0.70, 0.74])), "table1")
    text = to_markdown(table)
    assert "0.720 ±" in text
    assert text.count("\n") == len(TABLE1) + 1


def test_paper_tables_are_what_the_paper_reports():
    assert set(TABLES) == {"table1", "table2", "table3"}
    assert len(TABLES["table1"]) == 20
    assert TABLES["table2"][("tabula_muris/whole", "michigan_mean", "rf_error")] == 0.216


def test_unknown_table_is_an_error():
    with pytest.raises(KeyError, match="table9"):
        compare_with_paper(summarise_over_seeds([]), "table9")


def test_our_rows_the_paper_did_not_report_follow_its_rows():
    summary = summarise_over_seeds(
        records([0.16], model="cwgan_gp_mean", metric="spearman_gap")
        + records([0.3], dataset="screen", model="cwgan_gp_mean", metric="spearman_gap")
        + records([0.9], model="cwgan_gp_mean", metric="rf_error")
        + records([0.2], model="michigan_mean", metric="spearman_gap")
        + records([0.4], model="vae", metric="spearman_gap")
    )
    table = compare_with_paper(summary, "table3")
    assert len(table) == len(TABLES["table3"]) + 1
    extra = table.iloc[-1]
    assert (extra.dataset, extra.model, extra.metric) == (
        "simulated/linear",
        "cwgan_gp_mean",
        "spearman_gap",
    )
    assert extra["mean"] == pytest.approx(0.16)
    assert math.isnan(extra["paper"])
    assert math.isnan(extra["difference"])
    assert list(table.iloc[: len(TABLES["table3"])].model) == [k[1] for k in TABLES["table3"]]
    assert "| –       |" in to_markdown(table) or "| –  " in to_markdown(table)


def test_table1_puts_the_other_factorvae_variant_in_its_own_row():
    summary = summarise_over_seeds(
        records([0.45], metric="factorvae_score") + records([0.9], metric="factorvae_score_dlib")
    )
    table = compare_with_paper(summary, "table1")
    paper_row = table[(table.model == "btcvae") & (table.metric == "factorvae_score")]
    paper_row = paper_row[paper_row.dataset == "simulated/linear"]
    assert paper_row["mean"].item() == 0.45
    assert paper_row["paper"].item() == 0.44
    (dlib,) = table[table.metric == "factorvae_score_dlib"].itertuples()
    assert (dlib.mean, math.isnan(dlib.paper)) == (0.9, True)
    assert compare_with_paper(summary, "table3")["metric"].eq("spearman_gap").all()
