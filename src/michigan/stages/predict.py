"""Prediction stages: held-out split, latent-arithmetic predictions, low-Delta H split, figures.

The experiment of the paper's Fig. 4 (docs/prediction.md): ``split-heldout`` writes the split the
models of trainset ``heldout`` train on; ``predict-heldout`` predicts and scores the unseen
combinations with a trained run; ``split-lowdh`` picks the lowest-Delta H combinations for trainset
``lowdh``; ``plot-prediction`` and ``prediction-statistics`` turn the results into the report's
figures and table.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue, keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    import pandas as pd

    from michigan import config as cfg

logger = logging.getLogger(__name__)

_INPUT = arg("--input", type=Path, required=True, help="preprocessed .h5ad (all cells)")


def _write_table(table: pd.DataFrame, path: Path) -> None:
    from michigan.io import atomic_path

    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)


@stage(
    "split-heldout",
    help="Write the held-out split: the configured (cell type, drug) pairs out, every other cell in.",
    section="prediction",
    arguments=(_INPUT, arg("--output", type=Path, required=True, help="split .json to write")),
    inputs=lambda a: {"data": a.input},
    outputs=lambda a: {"split": a.output},
)
def split_heldout(args: argparse.Namespace, section: cfg.PredictionConfig) -> dict[str, Any]:
    """Split with :func:`michigan.data.splits.held_out_split` on ``prediction.heldout``."""
    from michigan.data.splits import held_out_split, write_split
    from michigan.io import read_h5ad

    split = held_out_split(read_h5ad(args.input), pairs=section.heldout, source=str(args.input))
    write_split(split, args.output)
    return {
        "pairs": [list(pair) for pair in split.pairs],
        "n_train": len(split.train),
        "n_held_out": {name: len(cells) for name, cells in split.held_out.items()},
    }


@stage(
    "predict-heldout",
    help="Predict held-out (and all) combinations by latent arithmetic; score both decoders.",
    section="prediction",
    seeded=True,
    arguments=(
        _INPUT,
        arg("--split", type=Path, required=True, help="split .json the models were trained on"),
        arg("--codes", type=Path, required=True, help="codes .h5ad of the representation model"),
        arg("--representation", type=Path, required=True, help="representation model directory"),
        arg("--generator", type=Path, required=True, help="MichiGAN model directory"),
        arg(
            "--code-mode",
            required=True,
            choices=catalogue.CODE_MODES,
            help="codes the generator was trained on; the arithmetic shifts the same kind",
        ),
        arg(
            "--held-out-only",
            action="store_true",
            help="predict the split's held-out pairs only (overrides prediction.all_combinations)",
        ),
        arg(
            "--evaluation",
            metavar="JSON",
            help=(
                "the 'evaluation' config section as JSON: its rf_trees, rf_folds and n_pcs score "
                "the predictions (default: from --config, else the schema's defaults)"
            ),
        ),
        arg("--threads", type=int, default=1, help="parallel jobs of the random forests"),
        arg("--output", type=Path, required=True, help="prediction table .tsv to write"),
        arg("--summary", type=Path, required=True, help="summary .json to write"),
    ),
    inputs=lambda a: {
        "data": a.input,
        "split": a.split,
        "codes": a.codes,
        "representation": a.representation,
        "generator": a.generator,
    },
    outputs=lambda a: {"table": a.output, "summary": a.summary},
)
def predict_heldout(args: argparse.Namespace, section: cfg.PredictionConfig) -> dict[str, Any]:
    """Run :func:`michigan.predict.heldout.predict_heldout` and summarise it."""
    from michigan.data.splits import read_split
    from michigan.io import write_json
    from michigan.predict.decoders import load_prediction_models, prediction_decoders
    from michigan.predict.heldout import PredictionSettings
    from michigan.predict.heldout import predict_heldout as predict
    from michigan.predict.summary import summarize_predictions

    models = load_prediction_models(args.input, args.codes, args.representation, args.generator)
    adata, representation, generator = models
    if not generator.conditional or generator.codes != args.code_mode:
        msg = (
            f"{args.generator} holds a {generator.model} trained on {generator.codes!r} codes; "
            f"expected a conditional generator trained on {args.code_mode!r} codes"
        )
        raise ValueError(msg)
    split = read_split(args.split)
    interacting = adata.uns.get(keys.INTERACTING_CONDITIONS)
    evaluation = _evaluation_section(args)
    result = predict(
        adata,
        decoders=prediction_decoders(models, adata.obs_names.isin(list(split.train))),
        train_cells=split.train,
        held_out=split.pairs,
        code_mode=args.code_mode,
        settings=PredictionSettings(
            all_combinations=section.all_combinations and not args.held_out_only,
            max_cells=section.max_cells,
            delta_h_cells=section.delta_h_cells,
            n_de_genes=section.n_de_genes,
            n_pcs=evaluation.n_pcs,
            rf_trees=evaluation.rf_trees,
            rf_folds=evaluation.rf_folds,
            n_jobs=args.threads,
        ),
        seed=args.seed,
        interacting=None if interacting is None else [str(c) for c in interacting],
    )
    summary = summarize_predictions(
        result.table,
        generator=generator.model,
        representation=representation.model,
        conventions=result.conventions,
    )
    summary["held_out_pairs"] = [list(pair) for pair in split.pairs]
    _write_table(result.table, args.output)
    write_json(summary, args.summary)
    return {
        "evaluation": {k: getattr(evaluation, k) for k in ("rf_trees", "rf_folds", "n_pcs")},
        "n_predictions": summary["n_predictions"],
        "wilcoxon_p_all": summary["wilcoxon"]["all"]["p_value"],
        "wilcoxon_p_held_out": summary["wilcoxon"]["held_out"]["p_value"],
        "verdict": summary["verdict"]["verdict"],
    }


def _evaluation_section(args: argparse.Namespace) -> cfg.EvaluationConfig:
    """The evaluation section: from --evaluation, else from --config, else the defaults."""
    import json

    from michigan import config as cfg

    if args.evaluation is not None:
        return cfg.load_section("evaluation", params=json.loads(args.evaluation))
    if args.config:
        return cfg.load_section("evaluation", config_files=args.config)
    return cfg.load_section("evaluation", params={})


@stage(
    "split-lowdh",
    help="Hold out the prediction.lowdh_k combinations of lowest Delta H of a held-out run.",
    section="prediction",
    arguments=(
        _INPUT,
        arg("--predictions", type=Path, required=True, help="prediction table of the heldout run"),
        arg("--output", type=Path, required=True, help="split .json to write"),
        arg("--ranking", type=Path, required=True, help="ranking .tsv to write"),
    ),
    inputs=lambda a: {"data": a.input, "predictions": a.predictions},
    outputs=lambda a: {"split": a.output, "ranking": a.ranking},
)
def split_lowdh(args: argparse.Namespace, section: cfg.PredictionConfig) -> dict[str, Any]:
    """Choose with :func:`michigan.predict.lowdh.lowest_delta_h_pairs`; split on the choice."""
    from michigan.data.splits import held_out_split, write_split
    from michigan.io import read_h5ad
    from michigan.predict.arithmetic import combinations
    from michigan.predict.lowdh import lowest_delta_h_pairs
    from michigan.predict.tasks import read_prediction_table, vehicle_drugs

    adata = read_h5ad(args.input)
    choice = lowest_delta_h_pairs(
        read_prediction_table(args.predictions),
        k=section.lowdh_k,
        design=combinations(adata.obs[keys.CELL_TYPE], adata.obs[keys.DRUG]),
        estimator=section.lowdh_estimator,
        exclude_drugs=vehicle_drugs(adata.obs),
    )
    split = held_out_split(adata, pairs=choice.pairs, source=str(args.input))
    write_split(split, args.output)
    _write_table(choice.ranking, args.ranking)
    return {"pairs": [list(pair) for pair in choice.pairs], "n_train": len(split.train)}


_RUNS = (
    arg(
        "--codes", nargs="+", required=True, choices=catalogue.CODE_MODES, help="code mode per run"
    ),
    arg("--tables", nargs="+", type=Path, required=True, help="prediction table per run"),
    arg("--summaries", nargs="+", type=Path, required=True, help="summary .json per run"),
)


def _runs(args: argparse.Namespace) -> tuple[dict[str, Path], dict[str, Path]]:
    """Code mode -> table and -> summary, checking that the three lists pair up."""
    if not len(args.codes) == len(args.tables) == len(args.summaries):
        msg = (
            f"--codes ({len(args.codes)}), --tables ({len(args.tables)}) and --summaries "
            f"({len(args.summaries)}) must list one entry per run"
        )
        raise ValueError(msg)
    return dict(zip(args.codes, args.tables, strict=True)), dict(
        zip(args.codes, args.summaries, strict=True)
    )


def _run_inputs(args: argparse.Namespace) -> dict[str, Path]:
    return {
        f"{kind}_{i}": path
        for kind in ("tables", "summaries")
        for i, path in enumerate(getattr(args, kind))
    }


@stage(
    "plot-prediction",
    help="Draw Fig. 4a (RF errors), 4b (Delta H vs RF-error difference) or 4c (low-Delta H runs).",
    section=None,
    arguments=(
        *_RUNS,
        arg("--figure", required=True, choices=["rf_error", "delta_h", "lowdh"], help="figure"),
        arg("--output", type=Path, required=True, help="figure file (.png, .svg, .pdf)"),
    ),
    inputs=_run_inputs,
    outputs=lambda a: {"figure": a.output},
)
def plot_prediction(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Draw one figure of :mod:`michigan.plots.prediction` from the runs' result files."""
    from michigan.plots import prediction

    draw = {
        "rf_error": prediction.plot_rf_error_scatter,
        "delta_h": prediction.plot_delta_h,
        "lowdh": prediction.plot_lowdh,
    }[args.figure]
    tables, summaries = _runs(args)
    draw(tables, summaries, args.output)
    return {"figure": args.figure, "runs": list(tables)}


@stage(
    "prediction-statistics",
    help="Collect the tests of prediction summaries (Wilcoxon, Delta H correlation, truth) in a TSV.",
    section=None,
    arguments=(
        arg("--summaries", nargs="+", type=Path, required=True, help="summary .json per run"),
        arg("--labels", nargs="+", required=True, help="label per run, e.g. heldout/sampled"),
        arg("--output", type=Path, required=True, help="table .tsv to write"),
    ),
    inputs=lambda a: {f"summary_{i}": path for i, path in enumerate(a.summaries)},
    outputs=lambda a: {"table": a.output},
)
def prediction_statistics(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Write :func:`michigan.predict.summary.statistics_table` of the summaries."""
    from michigan.io import read_json
    from michigan.predict.summary import statistics_table

    if len(args.labels) != len(args.summaries):
        msg = f"give one --labels entry per summary ({len(args.summaries)}), got {len(args.labels)}"
        raise ValueError(msg)
    table = statistics_table(
        {label: read_json(path) for label, path in zip(args.labels, args.summaries, strict=True)}
    )
    _write_table(table, args.output)
    return {"rows": len(table)}


@stage(
    "prediction-verdicts",
    help="Verdicts of the held-out tests per seed and on the seed average, per code mode.",
    section=None,
    arguments=(
        arg("--codes", nargs="+", required=True, choices=["mean", "sampled"], help="per table"),
        arg("--seeds", nargs="+", type=int, required=True, help="seed per table"),
        arg("--tables", nargs="+", type=Path, required=True, help="heldout prediction tables"),
        arg("--representation", default="btcvae", help="decoder name of the representation"),
        arg("--dataset", required=True, help="dataset the tables belong to (recorded)"),
        arg("--output", type=Path, required=True, help="verdict table .tsv to write"),
        arg("--summary", type=Path, required=True, help="seed-average summaries .json to write"),
    ),
    inputs=lambda a: {f"table_{i}": path for i, path in enumerate(a.tables)},
    outputs=lambda a: {"table": a.output, "summary": a.summary},
)
def prediction_verdicts(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Write :func:`michigan.predict.summary.seed_verdicts` of the tables."""
    from michigan.io import write_json
    from michigan.predict.summary import seed_verdicts
    from michigan.predict.tasks import read_prediction_table

    if not len(args.codes) == len(args.seeds) == len(args.tables):
        msg = (
            f"--codes ({len(args.codes)}), --seeds ({len(args.seeds)}) and --tables "
            f"({len(args.tables)}) must list one entry per table"
        )
        raise ValueError(msg)
    tables: dict[str, dict[int, pd.DataFrame]] = {}
    for mode, seed, path in zip(args.codes, args.seeds, args.tables, strict=True):
        tables.setdefault(mode, {})[seed] = read_prediction_table(path)
    table, combined = seed_verdicts(tables, representation=args.representation)
    _write_table(table, args.output)
    write_json({"dataset": args.dataset, "runs": combined}, args.summary)
    return {mode: summary["verdict"]["verdict"] for mode, summary in combined.items()}
