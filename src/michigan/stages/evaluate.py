"""Evaluation stages: disentanglement of codes, disentanglement of generators, quality of generated cells.

Each writes a ``metrics.json`` of ``{name: {"value": ..., "convention": ...}}`` (see
:mod:`michigan.metrics.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue, keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    from michigan import config as cfg

_OUTPUT = arg("--output", type=Path, required=True, help="metrics .json to write")
_FACTORS = arg(
    "--factors",
    nargs="+",
    required=True,
    help="obs columns of the ground-truth factors (continuous ones are cut into quantile bins)",
)


def _write(metrics: dict[str, Any], path: Path) -> dict[str, float]:
    from michigan.io import write_json

    write_json(metrics, path)
    return {name: entry["value"] for name, entry in metrics.items()}


@stage(
    "evaluate-disentanglement",
    help="MIG (three conventions and the histogram MIG), FactorVAE score and Spearman gap of codes.",
    section="evaluation",
    seeded=True,
    arguments=(
        arg("--codes", type=Path, required=True, help="codes .h5ad with the factors in obs"),
        _FACTORS,
        _OUTPUT,
    ),
    inputs=lambda a: {"codes": a.codes},
    outputs=lambda a: {"metrics": a.output},
)
def evaluate_disentanglement(
    args: argparse.Namespace, section: cfg.EvaluationConfig
) -> dict[str, float]:
    """Table 1's metrics of a representation model's codes."""
    from michigan.api.evaluate import disentanglement_metrics
    from michigan.io import read_h5ad

    metrics = disentanglement_metrics(
        read_h5ad(args.codes),
        factor_keys=args.factors,
        seed=args.seed,
        settings=section,
        source=str(args.codes),
    )
    return _write(metrics, args.output)


@stage(
    "evaluate-generator-disentanglement",
    help="Spearman gap of a generator's input codes against kNN-inferred factors of its cells.",
    section="evaluation",
    seeded=True,
    arguments=(
        arg("--generated", type=Path, required=True, help="generated .h5ad (obsm code)"),
        arg("--real", type=Path, required=True, help="preprocessed real cells with factors"),
        _FACTORS,
        _OUTPUT,
    ),
    inputs=lambda a: {"generated": a.generated, "real": a.real},
    outputs=lambda a: {"metrics": a.output},
)
def evaluate_generator_disentanglement(
    args: argparse.Namespace, section: cfg.EvaluationConfig
) -> dict[str, float]:
    """Table 3's metric of a generator."""
    from michigan.io import read_h5ad
    from michigan.metrics import evaluate
    from michigan.metrics.adata import read_factors

    fake, real = read_h5ad(args.generated), read_h5ad(args.real)
    metrics = evaluate.evaluate_generator_disentanglement(
        fake.obsm[keys.GENERATOR_CODE],
        fake.X,
        real.X,
        read_factors(real, factor_keys=args.factors, source=str(args.real)),
        k=section.knn_k,
        n_pcs=min(section.n_pcs, real.n_vars),
        seed=args.seed,
    )
    return _write(metrics, args.output)


@stage(
    "evaluate-generation",
    help="RF error and ROC AUC of real vs generated cells, and the inception score.",
    section="evaluation",
    seeded=True,
    arguments=(
        arg("--generated", type=Path, required=True, help="generated .h5ad"),
        arg("--real", type=Path, required=True, help="preprocessed real cells"),
        arg("--labels", help="obs column of cell types for the inception score (optional)"),
        arg("--threads", type=int, default=1, help="parallel jobs of the random forests"),
        _OUTPUT,
    ),
    inputs=lambda a: {"generated": a.generated, "real": a.real},
    outputs=lambda a: {"metrics": a.output},
)
def evaluate_generation(
    args: argparse.Namespace, section: cfg.EvaluationConfig
) -> dict[str, float]:
    """Table 2's metrics of generated cells."""
    from michigan.io import read_h5ad

    fake, real = read_h5ad(args.generated), read_h5ad(args.real)
    labels = None
    if args.labels is not None:
        if args.labels not in real.obs:
            msg = f"{args.real} has no obs column {args.labels!r} for the inception score"
            raise KeyError(msg)
        labels = real.obs[args.labels].astype(str).to_numpy()
    metrics = _generation_metrics(
        real.X,
        fake.X,
        labels=labels,
        args=args,
        section=section,
        original_pca=section.rf_original_pca,
    )
    return _write(metrics, args.output)


def _generation_metrics(
    real: Any,
    fake: Any,
    *,
    labels: Any,
    args: argparse.Namespace,
    section: cfg.EvaluationConfig,
    original_pca: bool,
) -> dict[str, Any]:
    """:func:`michigan.metrics.evaluate_generation` with the evaluation section's settings."""
    from michigan.metrics import evaluate

    return evaluate.evaluate_generation(
        real,
        fake,
        real_labels=labels,
        seed=args.seed,
        n_cells=section.n_cells,
        n_pcs=min(section.n_pcs, real.shape[1]),
        n_estimators=section.rf_trees,
        n_splits=section.rf_folds,
        original_pca=original_pca,
        is_splits=section.is_splits,
        n_jobs=args.threads,
    )


@stage(
    "training-curve",
    help="RF error (and inception score) of the cells each training snapshot generates (Fig. S4).",
    section="evaluation",
    seeded=True,
    arguments=(
        arg("--model-dir", type=Path, required=True, help="model trained with snapshot_every > 0"),
        arg("--real", type=Path, required=True, help="preprocessed real cells"),
        arg("--train-split", type=Path, help="held-out split JSON: the model's training cells"),
        arg("--codes", type=Path, help="codes .h5ad of the cells (conditional generators)"),
        arg("--code-mode", choices=catalogue.CODE_MODES, help="codes the generator was trained on"),
        arg("--labels", help="obs column of cell types for the inception score (optional)"),
        arg("--threads", type=int, default=1, help="parallel jobs of the random forests"),
        _OUTPUT,
        arg("--figure", type=Path, required=True, help="figure of the curves to write"),
    ),
    inputs=lambda a: {"model": a.model_dir, "real": a.real},
    outputs=lambda a: {"curve": a.output, "figure": a.figure},
)
def training_curve(args: argparse.Namespace, section: cfg.EvaluationConfig) -> dict[str, Any]:
    """Evaluate every snapshot like the final model and plot the metrics against the epoch."""
    import pandas as pd

    from michigan.api.cells import conditioning_codes, read_codes_of, training_cells
    from michigan.io import atomic_path, read_h5ad
    from michigan.plots import plot_training_curves
    from michigan.train.curves import snapshot_cells

    real = training_cells(read_h5ad(args.real), args.train_split)
    codes = None
    if args.codes is not None:
        cell_codes = read_codes_of(read_h5ad(args.codes), real.obs_names, source=args.codes)
        codes = conditioning_codes(cell_codes, args.code_mode)
    labels = real.obs[args.labels].astype(str).to_numpy() if args.labels else None
    rows = []
    for epoch, cells in snapshot_cells(args.model_dir, real.X, seed=args.seed, codes=codes):
        metrics = _generation_metrics(
            real.X, cells, labels=labels, args=args, section=section, original_pca=False
        )
        rows += [{"epoch": epoch, "metric": name, **entry} for name, entry in metrics.items()]
    curve = pd.DataFrame(rows)
    with atomic_path(args.output) as tmp:
        curve.to_csv(tmp, sep="\t", index=False)
    run = args.model_dir.parent.name
    plot_training_curves({run: curve}, path=args.figure, title=run)
    return {"snapshots": int(curve["epoch"].nunique())}
