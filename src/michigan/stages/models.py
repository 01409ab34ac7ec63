"""Model stages: train a representation, encode cells, train a generator, generate cells."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue, keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    import anndata as ad

    from michigan import config as cfg

logger = logging.getLogger(__name__)

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


def training_cells(adata: ad.AnnData, split: Path | None) -> ad.AnnData:
    """The cells a model trains on: all, or the training cells of a held-out split."""
    if split is None:
        return adata
    from michigan.data.splits import read_split

    train = list(read_split(split).train)
    missing = set(train) - set(adata.obs_names)
    if missing:
        msg = f"{len(missing)} training cells of {split} are not in the data, e.g. {sorted(missing)[:3]}"
        raise ValueError(msg)
    logger.info("training on %d of %d cells (split %s)", len(train), adata.n_obs, split)
    return adata[train]


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
    """Fit the model with :func:`michigan.train.train_representation`."""
    from michigan.devices import check_gpus
    from michigan.io import read_h5ad
    from michigan.train import read_history
    from michigan.train import train_representation as fit

    check_gpus(args.gpus)
    adata = training_cells(read_h5ad(args.input), args.train_split)
    fit(
        adata.X,
        section,
        model=args.model,
        seed=args.seed,
        out_dir=args.output,
        checkpoint_dir=args.checkpoint_dir,
    )
    history = read_history(args.output)
    return {"n_cells": adata.n_obs, "n_genes": adata.n_vars, "epochs": _epochs(history)}


def _epochs(history: dict[str, Any]) -> int:
    return len(next(iter(history.values()))) if history else 0


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
    import anndata as ad

    from michigan.io import read_h5ad, write_h5ad
    from michigan.train import load_representation

    adata = read_h5ad(args.input)
    codes = load_representation(args.model_dir).encode(adata.X, seed=args.seed)
    out = ad.AnnData(obs=adata.obs.copy())
    out.obsm[keys.CODE_MEAN] = codes.mean
    out.obsm[keys.CODE_LOGSIGMA] = codes.logsigma
    out.obsm[keys.CODE_SAMPLE] = codes.sample
    write_h5ad(out, args.output)
    return {"n_cells": out.n_obs, "latent_dim": int(codes.mean.shape[1])}


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
    """Fit the generator with :func:`michigan.train.train_generator`."""
    from michigan.devices import check_gpus
    from michigan.io import read_h5ad
    from michigan.train import read_history
    from michigan.train import train_generator as fit

    check_gpus(args.gpus)
    adata = training_cells(read_h5ad(args.input), args.train_split)
    mean = logsigma = None
    if args.codes is not None:
        codes = read_h5ad(args.codes)[adata.obs_names]
        mean, logsigma = codes.obsm[keys.CODE_MEAN], codes.obsm[keys.CODE_LOGSIGMA]
    fit(
        adata.X,
        section,
        model=args.model,
        seed=args.seed,
        out_dir=args.output,
        codes=args.code_mode,
        code_mean=mean,
        code_logsigma=logsigma,
        checkpoint_dir=args.checkpoint_dir,
    )
    history = read_history(args.output)
    return {"n_cells": adata.n_obs, "epochs": _epochs(history), "code_mode": args.code_mode}


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
    """Write generated cells with the real cells' ``obs`` and the generator's input code in ``obsm``.

    A conditional generator is fed the codes of the training cells (means or samples, as it was
    trained) and fresh noise; an unconditional one draws its code and noise; a representation model
    reconstructs the cells and adds its observation noise (the original code's VAE "generation").
    """
    import anndata as ad

    from michigan.io import read_h5ad, read_json, write_h5ad
    from michigan.train import load_generator, load_representation

    adata = training_cells(read_h5ad(args.input), args.train_split)
    kind = read_json(args.model_dir / "model.json")["kind"]
    if kind == "representation":
        x = load_representation(args.model_dir).reconstruct(adata.X, seed=args.seed)
        out = ad.AnnData(x, obs=adata.obs.copy(), var=adata.var[[]].copy())
    else:
        generator = load_generator(args.model_dir)
        codes = None
        if generator.conditional:
            if args.codes is None or args.code_mode is None:
                msg = f"{generator.model} is conditional: give --codes and --code-mode"
                raise ValueError(msg)
            obsm = read_h5ad(args.codes)[adata.obs_names].obsm
            codes = obsm[keys.CODE_MEAN if args.code_mode == "mean" else keys.CODE_SAMPLE]
        generated = generator.generate(seed=args.seed, codes=codes, n_cells=adata.n_obs)
        # a conditional cell is the counterpart of the real cell whose code it got; an
        # unconditional one is not, so it gets no real cell's metadata
        obs = adata.obs.copy() if generator.conditional else None
        out = ad.AnnData(generated.x, obs=obs, var=adata.var[[]].copy())
        if obs is None:
            out.obs_names = [f"generated{i}" for i in range(out.n_obs)]
        out.obsm[keys.GENERATOR_CODE] = generated.code
    write_h5ad(out, args.output)
    return {"n_cells": out.n_obs, "n_genes": out.n_vars, "source": kind}
