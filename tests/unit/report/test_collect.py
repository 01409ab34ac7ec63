from __future__ import annotations

import json
import math

import pytest

from michigan.report.collect import metric_records, parse_metrics_path


def write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))
    return path


def test_path_layout_gives_dataset_trainset_seed_model_family():
    where = parse_metrics_path("x/results/simulated/linear/all/seed3/btcvae/disentanglement.json")
    assert where == {
        "dataset": "simulated/linear",
        "trainset": "all",
        "seed": 3,
        "model": "btcvae",
        "family": "disentanglement",
    }


def test_path_outside_the_layout_is_rejected():
    with pytest.raises(ValueError, match="results layout"):
        parse_metrics_path("results/btcvae/metrics.json")


def test_records_take_the_project_default_of_each_paper_metric(tmp_path):
    run = tmp_path / "results/simulated/linear/all/seed0/btcvae"
    path = write(
        run / "disentanglement.json",
        {
            "mig_michigan_balanced": {"value": 0.7, "convention": "c"},
            "mig_betatcvae": {"value": 0.1, "convention": "c"},
            "factorvae_michigan_code": {"value": None, "convention": "not computed"},
            "factorvae_score": {"value": 0.9, "convention": "c"},
            "spearman_gap": {"value": 0.25, "convention": "c"},
        },
    )
    write(
        run / "model/run.json", {"wall_time_s": 12.5, "device": {"cpus": 2, "jax_backend": "cpu"}}
    )
    records = metric_records([path])
    # the paper's FactorVAE column takes the original code's variant (not computed here); the
    # disentanglement_lib score gets its own row
    assert {r["metric"]: r["value"] for r in records} == {
        "mig": 0.7,
        "factorvae_score_dlib": 0.9,
        "spearman_gap": 0.25,
    }
    assert all(
        r["train_time_s"] == 12.5 and r["hardware"] == "2 CPU cores, JAX cpu" for r in records
    )


def test_records_without_a_training_record_have_unknown_time(tmp_path):
    path = write(
        tmp_path / "results/screen/all/seed1/michigan_mean/generation.json",
        {"rf_error": {"value": 0.4, "convention": "c"}},
    )
    (record,) = metric_records([path])
    assert math.isnan(record["train_time_s"])
    assert record["hardware"] == "unknown"
