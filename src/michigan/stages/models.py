"""Model stages: train a representation, encode cells, train a generator, generate cells."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    from michigan import config as cfg

_INPUT = arg("--input", type=Path, required=True, help="preprocessed .h5ad (all cells)")
_TRAIN_CELLS = arg(
    "--train-split",
    type=Path,
    help="held-out split JSON (michigan.data.splits); train on its training cells only",
)
_GPUS = arg(
    "--gpus",
    type=int,
    default=0,
    help="GPUs the job asked for (the rule's gpu resource); an error if JAX sees fewer, unless "
    "MICHIGAN_GPU_FALLBACK=cpu",
)
_CHECKPOINTS = arg(
    "--checkpoint-dir",
    type=Path,
    help="where the training checkpoint lives (default: inside --output); a rerun resumes from it",
)


def _inputs(args: argparse.Namespace, **extra: Path | None) -> dict[str, Path]:
    given = {"data": args.input, "train_split": args.train_split, **extra}
    return {name: path for name, path in given.items() if path is not None}


@stage(
    "train-representation",
    help="Train a representation model (ppca, vae or btcvae) on the preprocessed cells.",
    section="representation",
    seeded=True,
    arguments=(
        _INPUT,
        _TRAIN_CELLS,
        arg(
            "--model",
            required=True,
            choices=catalogue.models("representation"),
            help="model to train",
        ),
        arg("--output", type=Path, required=True, help="model directory to write"),
        _CHECKPOINTS,
        _GPUS,
    ),
    inputs=_inputs,
    outputs=lambda a: {"model": a.output},
)
def train_representation(
    args: argparse.Namespace, section: cfg.RepresentationConfig
) -> dict[str, Any]:
    """Fit the model with the API (:mod:`michigan.api`) into the output directory."""
    from michigan.api.cells import training_cells
    from michigan.api.model import model_class
    from michigan.devices import check_gpus
    from michigan.io import read_h5ad

    check_gpus(args.gpus)
    adata = training_cells(read_h5ad(args.input), args.train_split)
    model = model_class(args.model).from_config(adata, section)
    _train_into(model, args)
    return {"n_cells": adata.n_obs, "n_genes": adata.n_vars, **_training_summary(args.output)}


def _train_into(model: Any, args: argparse.Namespace) -> None:
    """Train ``model`` into ``--output`` (checkpoints in ``--checkpoint-dir``) and record its genes."""
    model.train(
        seed=args.seed,
        progress=False,  # the training loop logs progress lines
        model_dir=args.output,
        checkpoint_dir=args.checkpoint_dir,
    )
    model.save(args.output)


def _training_summary(model_dir: Path) -> dict[str, Any]:
    """Epochs trained and the timing (compilation apart) of a model directory, for ``run.json``."""
    from michigan.io import read_json
    from michigan.train import read_history

    history = read_history(model_dir)
    timing = read_json(model_dir / "model.json").get("timing")
    epochs = len(next(iter(history.values()))) if history else 0
    return {"epochs": epochs, "timing": timing}


@stage(
    "encode",
    help="Encode every cell with a trained representation model: posterior means, log std, samples.",
    section=None,
    seeded=True,
    arguments=(
        _INPUT,
        arg("--model-dir", type=Path, required=True, help="trained representation model"),
        arg("--output", type=Path, required=True, help="codes .h5ad to write (obs + obsm codes)"),
    ),
    inputs=lambda a: {"data": a.input, "model": a.model_dir},
    outputs=lambda a: {"codes": a.output},
)
def encode(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Write ``obsm`` codes (:data:`keys.CODE_MEAN`, ``CODE_LOGSIGMA``, ``CODE_SAMPLE``) of all cells."""
    from michigan.api import Representation
    from michigan.api.cells import codes_anndata
    from michigan.io import read_h5ad, write_h5ad

    adata = read_h5ad(args.input)
    codes = Representation.load(args.model_dir, adata).encode(adata, seed=args.seed)
    write_h5ad(codes_anndata(adata, codes), args.output)
    return {"n_cells": adata.n_obs, "latent_dim": int(codes.mean.shape[1])}


@stage(
    "train-generator",
    help="Train a generator (wgan_gp, infowgan_gp, cwgan_gp, michigan) on cells and their codes.",
    section="generator",
    seeded=True,
    arguments=(
        _INPUT,
        _TRAIN_CELLS,
        arg(
            "--model",
            required=True,
            choices=catalogue.models("generator"),
            help="generator to train",
        ),
        arg("--codes", type=Path, help="codes .h5ad of the cells (conditional models)"),
        arg(
            "--code-mode",
            choices=catalogue.CODE_MODES,
            help="condition on posterior means, or on a fresh posterior sample every minibatch",
        ),
        arg("--output", type=Path, required=True, help="model directory to write"),
        _CHECKPOINTS,
        _GPUS,
    ),
    inputs=lambda a: _inputs(a, codes=a.codes),
    outputs=lambda a: {"model": a.output},
)
def train_generator(args: argparse.Namespace, section: cfg.GeneratorConfig) -> dict[str, Any]:
    """Fit the generator with the API (:mod:`michigan.api`) on the cells and their codes file."""
    from michigan.api.cells import read_codes_of, training_cells
    from michigan.api.model import model_class
    from michigan.devices import check_gpus
    from michigan.io import read_h5ad

    check_gpus(args.gpus)
    adata = training_cells(read_h5ad(args.input), args.train_split)
    codes = None
    if args.codes is not None:
        codes = read_codes_of(read_h5ad(args.codes), adata.obs_names, source=args.codes)
    model = model_class(args.model).from_config(
        adata, section, codes=args.code_mode, cell_codes=codes
    )
    _train_into(model, args)
    return {"n_cells": adata.n_obs, "code_mode": args.code_mode, **_training_summary(args.output)}


@stage(
    "generate",
    help="Generate one cell per training cell: from a generator, or a VAE's noisy reconstruction.",
    section=None,
    seeded=True,
    arguments=(
        _INPUT,
        _TRAIN_CELLS,
        arg("--model-dir", type=Path, required=True, help="trained generator or representation"),
        arg("--codes", type=Path, help="codes .h5ad of the cells (conditional generators)"),
        arg(
            "--code-mode",
            choices=catalogue.CODE_MODES,
            help="condition on the cells' posterior means or on posterior samples",
        ),
        arg("--output", type=Path, required=True, help="generated .h5ad to write"),
    ),
    inputs=lambda a: _inputs(a, model=a.model_dir, codes=a.codes),
    outputs=lambda a: {"generated": a.output},
)
def generate(args: argparse.Namespace, section: None) -> dict[str, Any]:
    """Write generated cells (the layout of :mod:`michigan.api.cells`) with the API.

    A conditional generator is fed the codes of the training cells (means or samples, as it was
    trained) and fresh noise; an unconditional one draws its code and noise; a representation model
    reconstructs the cells and adds its observation noise (the original code's VAE "generation").
    """
    from michigan.api import Generator, Model
    from michigan.api.cells import conditioning_codes, read_codes_of, training_cells
    from michigan.io import read_h5ad, write_h5ad

    adata = training_cells(read_h5ad(args.input), args.train_split)
    model = Model.load(args.model_dir, adata)
    if not isinstance(model, Generator):
        out = model.generate(adata, seed=args.seed)
    elif model.conditional:
        if args.codes is None or args.code_mode is None:
            msg = f"{model.model} is conditional: give --codes and --code-mode"
            raise ValueError(msg)
        codes = read_codes_of(read_h5ad(args.codes), adata.obs_names, source=args.codes)
        out = model.generate(adata, seed=args.seed, codes=conditioning_codes(codes, args.code_mode))
    else:
        out = model.generate(adata, seed=args.seed)
    write_h5ad(out, args.output)
    return {"n_cells": out.n_obs, "n_genes": out.n_vars, "source": model.section}
