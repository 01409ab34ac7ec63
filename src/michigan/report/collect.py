"""Collect the per-model ``metrics.json`` files of the pipeline into tidy records for the tables.

A metrics file lives at ``results/<dataset>/<trainset>/seed<seed>/<model>/<family>.json`` and holds
``{name: {"value": ..., "convention": ...}}`` (:mod:`michigan.metrics.evaluate`). The tables take one
value per paper metric; :data:`PAPER_METRICS` says which of our recorded values stands for it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue
from michigan.io import read_json

if TYPE_CHECKING:
    from collections.abc import Iterable

#: the paper's metric name -> the recorded value comparable with the paper's numbers
#: (docs/metrics.md): Table 1's FactorVAE scores (0.35-0.46 with four factors, near chance) are what
#: the original code's FactorVAEMetric gives, which votes for the latent of *highest* normalised
#: spread, so the paper's column takes that variant
PAPER_METRICS = {
    "mig": "mig_michigan_balanced",
    "factorvae_score": "factorvae_michigan_code",
    "spearman_gap": "spearman_gap",
    "rf_error": "rf_error",
    "inception_score": "inception_score",
}
#: our metrics that no paper table reports, each shown beside the paper metric it varies: the
#: FactorVAE score as Kim & Mnih and disentanglement_lib define it (lowest normalised variance)
BESIDE_PAPER_METRICS = {"factorvae_score_dlib": ("factorvae_score", "factorvae_score")}

#: a metrics file of a catalogue dataset and model run (:mod:`michigan.catalogue`)
_LAYOUT = re.compile(
    rf"(?:^|/)results/(?P<dataset>{catalogue.dataset_pattern()})/"
    rf"(?P<trainset>{'|'.join(catalogue.TRAINSETS)})/seed(?P<seed>\d+)/"
    rf"(?P<model>{catalogue.run_pattern()})/(?P<family>[^/]+)\.json$"
)


def parse_metrics_path(path: str | Path) -> dict[str, Any]:
    """Dataset, trainset, seed, model and family of a metrics file, from its path.

    Raises
    ------
    ValueError
        If the path does not follow the results layout.
    """
    match = _LAYOUT.search(Path(path).as_posix())
    if match is None:
        msg = (
            f"{path} is not a metrics file of the results layout "
            "results/<dataset>/<trainset>/seed<seed>/<model>/<family>.json with a catalogue "
            "dataset and model"
        )
        raise ValueError(msg)
    fields = match.groupdict()
    fields["seed"] = int(fields["seed"])
    return fields


def metric_records(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """One record per (file, paper metric) found: dataset, model, metric, seed, value.

    Each record also carries the training wall time of its model (``train_time_s``, from the
    ``run.json`` of ``<model>/model``; NaN if absent) and the hardware it ran on. Values recorded as
    not computable (``None``) are skipped.
    """
    records = []
    for path in paths:
        where = parse_metrics_path(path)
        recorded = read_json(path)
        training = _training_record(Path(path).parent / "model" / "run.json")
        recorded_as = PAPER_METRICS | {m: name for m, (name, _) in BESIDE_PAPER_METRICS.items()}
        for metric, name in recorded_as.items():
            value = recorded.get(name, {}).get("value")
            if value is not None:
                records.append(
                    {
                        "dataset": where["dataset"],
                        "model": where["model"],
                        "metric": metric,
                        "seed": where["seed"],
                        "value": float(value),
                        **training,
                    }
                )
    return records


def _training_record(run_json: Path) -> dict[str, Any]:
    if not run_json.is_file():
        return {"train_time_s": float("nan"), "hardware": "unknown"}
    record = read_json(run_json)
    device = record.get("device", {})
    backend = device.get("jax_backend", "cpu")
    hardware = f"{device.get('cpus', '?')} CPU cores, JAX {backend}"
    if backend != "cpu":
        hardware = f"{', '.join(device.get('jax_devices', [])) or backend}"
    return {"train_time_s": float(record.get("wall_time_s", "nan")), "hardware": hardware}
