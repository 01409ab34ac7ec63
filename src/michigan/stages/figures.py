"""Figure stages: UMAPs coloured by metadata and codes, code x factor bars, traversals, held-out cells.

Also the traversal population, the held-out predictions on the UMAP and the models' training curves
overlaid. Each stage reads result files, calls the library (:mod:`michigan.plots`,
:mod:`michigan.predict.traversal`) and writes its images and tables; the ``figures`` config section
sets the UMAP, the traversals and the image resolution.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    import anndata as ad
    import pandas as pd

    from michigan import config as cfg
    from michigan.plots.embedding import UMAPEmbedding
    from michigan.stages import Argument

logger = logging.getLogger(__name__)


def _named_files(flag: str, metavar: str, help_text: str) -> Argument:
    """A required option given once per model, ``<flag> MODEL <metavar>``: its name and its file."""
    return arg(
        flag, nargs=2, action="append", required=True, metavar=("MODEL", metavar), help=help_text
    )


def _named_inputs(args: argparse.Namespace, option: str) -> dict[str, Path]:
    """The files of a repeated ``--<option> NAME PATH``, keyed ``<option>_NAME``."""
    return {f"{option}_{name}": Path(path) for name, path in getattr(args, option)}


_LABEL = arg(
    "--label", required=True, help="what the figures show, e.g. 'simulated/linear, seed 0'"
)
_CODES = _named_files(
    "--codes",
    "CODES_H5AD",
    "a representation model's name and its codes .h5ad (repeat for each model)",
)
_IMAGE = arg("--output", type=Path, required=True, help="image to write (.png, .svg or .pdf)")


@stage(
    "fit-umap",
    help="Fit the real cells' PCA and UMAP (the original's settings) and draw them coloured by metadata.",
    section="figures",
    arguments=(
        arg("--input", type=Path, required=True, help="preprocessed .h5ad (all cells)"),
        arg(
            "--output",
            type=Path,
            required=True,
            help="fitted PCA, UMAP coordinates and settings (.npz, no pickle) to write",
        ),
        arg(
            "--cells", type=Path, required=True, help="real cells' obs + obsm X_umap .h5ad to write"
        ),
        arg("--figure", type=Path, required=True, help="image of the UMAP coloured by metadata"),
        arg("--colors", nargs="+", help="obs columns to colour by (default: the known metadata)"),
        _LABEL,
    ),
    inputs=lambda a: {"data": a.input},
    outputs=lambda a: {"embedding": a.output, "cells": a.cells, "figure": a.figure},
)
def fit_umap(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Write the embedding, the real cells' coordinates (``obsm[keys.UMAP]``) and the metadata figure."""
    from michigan.api.cells import obsm_anndata
    from michigan.io import read_h5ad, write_h5ad
    from michigan.plots import default_color_columns, plot_umap_by_obs
    from michigan.plots.embedding import fit_umap_embedding, save_embedding

    adata = read_h5ad(args.input)
    columns = args.colors or default_color_columns(adata.obs)
    if not columns:
        msg = f"{args.input} has none of the known metadata columns; name some with --colors"
        raise ValueError(msg)
    embedding = fit_umap_embedding(
        adata.X,
        n_pcs=section.umap_n_pcs,
        n_neighbors=section.umap_n_neighbors,
        min_dist=section.umap_min_dist,
        random_state=section.umap_random_state,
    )
    save_embedding(embedding, args.output)
    write_h5ad(obsm_anndata(adata, {keys.UMAP: embedding.coordinates}), args.cells)
    plot_umap_by_obs(
        embedding.coordinates,
        adata.obs,
        columns,
        path=args.figure,
        title=f"{args.label}: real cells",
        dpi=section.dpi,
    )
    return {"n_cells": adata.n_obs, "n_pcs": embedding.n_pcs, "colors": columns}


@stage(
    "plot-codes",
    help="Draw the real cells' UMAP coloured by every code dimension of every representation model.",
    section="figures",
    arguments=(
        arg("--cells", type=Path, required=True, help="real cells' UMAP .h5ad (fit-umap --cells)"),
        _CODES,
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: {"cells": a.cells, **_named_inputs(a, "codes")},
    outputs=lambda a: {"figure": a.output},
)
def plot_codes(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs 2b and S2: one row of panels per model."""
    from michigan.api.cells import aligned
    from michigan.io import read_h5ad
    from michigan.plots import plot_umap_by_codes

    cells = read_h5ad(args.cells)
    codes = {
        name: aligned(read_h5ad(path), cells.obs_names, source=path).obsm[keys.CODE_MEAN]
        for name, path in args.codes
    }
    plot_umap_by_codes(
        cells.obsm[keys.UMAP],
        codes,
        path=args.output,
        title=f"{args.label}: real cells coloured by code (posterior mean)",
        dpi=section.dpi,
    )
    return {"models": list(codes)}


@stage(
    "plot-code-factors",
    help="Bar charts of |Spearman rho| and normalised MI between every code dimension and factor.",
    section="figures",
    seeded=True,
    arguments=(
        _CODES,
        arg(
            "--factors",
            nargs="+",
            required=True,
            help="obs columns of the factors (continuous ones in quantile bins)",
        ),
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: _named_inputs(a, "codes"),
    outputs=lambda a: {"figure": a.output},
)
def plot_code_factors(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Fig S1: Spearman on posterior means, normalised MI on the Gaussian posteriors."""
    from michigan.io import read_h5ad
    from michigan.metrics import gaussian_entropies, read_codes, read_factors, spearman_matrix
    from michigan.plots import plot_code_factor_bars

    spearman, normalized_mi = {}, {}
    for name, path in args.codes:
        adata = read_h5ad(path)
        codes = read_codes(adata)
        factors = read_factors(adata, factor_keys=args.factors, source=str(path))
        if codes.logsigma is None or codes.sample is None:
            msg = f"{path} lacks posterior log std or samples, needed for the mutual information"
            raise KeyError(msg)
        spearman[name] = spearman_matrix(codes.mean, factors)
        entropies = gaussian_entropies(
            codes.sample,
            codes.mean,
            codes.logsigma,
            factors,
            max_cells=section.mi_max_cells,
            seed=args.seed,
        )
        normalized_mi[name] = entropies.normalized_mi(section.mi_convention)
    plot_code_factor_bars(
        spearman,
        normalized_mi,
        factor_names=args.factors,
        path=args.output,
        title=f"{args.label}: codes vs factors (MI convention {section.mi_convention})",
        dpi=section.dpi,
    )
    return {"models": list(spearman), "factors": list(args.factors)}


@stage(
    "traverse",
    help="Latent traversals of a population with the decoder, conditional and unconditional generators.",
    section="figures",
    seeded=True,
    arguments=(
        arg("--input", type=Path, required=True, help="preprocessed .h5ad (the embedded cells)"),
        arg(
            "--embedding",
            type=Path,
            required=True,
            help="fitted PCA + UMAP (.npz of fit-umap --output)",
        ),
        arg("--codes", type=Path, required=True, help="codes .h5ad of the representation model"),
        arg("--representation", type=Path, required=True, help="its model directory (decoder)"),
        arg(
            "--conditional",
            type=Path,
            action="append",
            default=[],
            help="conditional generator model directory, e.g. MichiGAN (repeatable)",
        ),
        arg(
            "--unconditional",
            type=Path,
            action="append",
            default=[],
            help="unconditional generator model directory, e.g. WGAN-GP (repeatable)",
        ),
        arg("--genes", type=Path, required=True, help="TSV of the top-varying genes to write"),
        arg("--cells", type=Path, required=True, help="TSV of the generated cells' UMAP to write"),
        arg("--figure-umap", type=Path, required=True, help="image of the cells on the UMAP"),
        arg("--figure-genes", type=Path, required=True, help="image of the gene changes"),
        _LABEL,
    ),
    inputs=lambda a: {
        "data": a.input,
        "embedding": a.embedding,
        "codes": a.codes,
        "representation": a.representation,
        **{f"conditional{i}": p for i, p in enumerate(a.conditional)},
        **{f"unconditional{i}": p for i, p in enumerate(a.unconditional)},
    },
    outputs=lambda a: {
        "genes": a.genes,
        "cells": a.cells,
        "figure_umap": a.figure_umap,
        "figure_genes": a.figure_genes,
    },
)
def traverse(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs 3 and S7–S9 (see :mod:`michigan.predict.traversal` for the choices made)."""
    from michigan.api.cells import aligned
    from michigan.io import read_h5ad
    from michigan.plots import plot_traversal_embedding, plot_traversal_genes
    from michigan.predict import traversal
    from michigan.train import load_generator, load_representation

    adata = read_h5ad(args.input)
    embedding = _placing_embedding(args.embedding, adata, args.input)
    codes = aligned(read_h5ad(args.codes), adata.obs_names, source=args.codes).obsm
    rows = traversal.population_rows(
        adata.obs,
        section.traversal_population,
        max_cells=section.traversal_max_cells,
        seed=args.seed,
    )
    sources = [
        traversal.decoder_source(
            load_representation(args.representation),
            start=codes[keys.CODE_MEAN][rows],
            reference=codes[keys.CODE_MEAN],
            noise=section.traversal_decoder_noise,
        )
    ]
    for model_dir in args.conditional:
        generator = load_generator(model_dir)
        key = keys.CODE_SAMPLE if generator.info.get("codes") == "sampled" else keys.CODE_MEAN
        sources.append(
            traversal.conditional_source(generator, start=codes[key][rows], reference=codes[key])
        )
    targets = embedding.pca_transform(adata.X[rows])
    sources.extend(
        traversal.unconditional_source(
            load_generator(model_dir),
            targets=targets,
            project=embedding.pca_transform,
            n_candidates=section.traversal_wgan_candidates,
            seed=args.seed,
        )
        for model_dir in args.unconditional
    )
    dims = section.traversal_dims or range(min(s.start.shape[1] for s in sources))
    result = traversal.traverse(
        sources,
        dims=list(dims),
        quantiles=tuple(section.traversal_quantiles),
        n_steps=section.traversal_steps,
        top_genes=section.traversal_top_genes,
        gene_names=list(adata.var_names),
        project=embedding.pca_transform,
        seed=args.seed,
    )
    placed = embedding.umap_transform(result.projections)
    cells = result.cells.assign(umap1=placed[:, 0], umap2=placed[:, 1])
    _write_tsv(result.genes, args.genes)
    _write_tsv(cells, args.cells)
    population = embedding.coordinates[rows]
    plot_traversal_embedding(
        embedding.coordinates,
        population,
        cells,
        path=args.figure_umap,
        title=f"{args.label}: traversals from {len(rows)} cells (pink) on the real UMAP",
        dpi=section.dpi,
    )
    plot_traversal_genes(
        result.genes,
        path=args.figure_genes,
        title=f"{args.label}: top-varying genes along each traversal",
        dpi=section.dpi,
    )
    return {
        "population_cells": len(rows),
        "models": [s.name for s in sources],
        "dims": list(dims),
    }


def _condition(key: str, value: Any) -> str:
    """One condition of a population as text: ``cell_type fibroblast``, ``step >= 0 <= 5``."""
    if isinstance(value, Mapping):
        bounds = [
            f"{op} {value[end]}" for end, op in (("min", ">="), ("max", "<=")) if end in value
        ]
        return f"{key} {' '.join(bounds)}"
    return f"{key} {'/'.join(map(str, value))}"


def _write_tsv(table: pd.DataFrame, path: Path) -> None:
    from michigan.io import atomic_path

    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)


_GENERATED = _named_files(
    "--generated",
    "GENERATED_H5AD",
    "a generator's name and its generated .h5ad (obsm code; repeat for each model)",
)


def _placing_embedding(path: Path, adata: ad.AnnData, source: Path) -> UMAPEmbedding:
    """The embedding at ``path``, its UMAP refitted on the real cells ``adata`` to place new cells.

    ``source`` is the file ``adata`` was read from, for the messages.
    """
    from michigan.plots.embedding import load_embedding

    embedding = load_embedding(path)
    if len(embedding.coordinates) != adata.n_obs:
        msg = f"{path} embeds {len(embedding.coordinates)} cells, {source} has {adata.n_obs}"
        raise ValueError(msg)
    return embedding.with_umap(adata.X, source=str(path))


def _generated_cells(args: argparse.Namespace) -> dict[str, ad.AnnData]:
    """``{model: generated cells}`` of ``--generated``, each with its input codes in ``obsm``."""
    from michigan.io import read_h5ad

    generated = {}
    for name, path in args.generated:
        generated[name] = read_h5ad(path)
        if keys.GENERATOR_CODE not in generated[name].obsm:
            msg = f"{path} has no obsm {keys.GENERATOR_CODE!r}: {name} takes no code"
            raise KeyError(msg)
    return generated


@stage(
    "plot-generated-codes",
    help="Draw generated cells on the real cells' UMAP, coloured by every dimension of their input code.",
    section="figures",
    arguments=(
        arg("--input", type=Path, required=True, help="preprocessed .h5ad the UMAP was fitted on"),
        arg("--embedding", type=Path, required=True, help="fitted PCA + UMAP (fit-umap --output)"),
        _GENERATED,
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: {"data": a.input, "embedding": a.embedding, **_named_inputs(a, "generated")},
    outputs=lambda a: {"figure": a.output},
)
def plot_generated_codes(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs 2b (InfoWGAN-GP row), S3 and S5: one row of panels per generator."""
    from michigan.io import read_h5ad
    from michigan.plots import plot_umap_by_codes

    embedding = _placing_embedding(args.embedding, read_h5ad(args.input), args.input)
    generated = _generated_cells(args)
    plot_umap_by_codes(
        {
            name: embedding.umap_transform(embedding.pca_transform(cells.X))
            for name, cells in generated.items()
        },
        {name: cells.obsm[keys.GENERATOR_CODE] for name, cells in generated.items()},
        path=args.output,
        title=f"{args.label}: generated cells on the real UMAP, coloured by their input code",
        dpi=section.dpi,
    )
    return {"models": list(generated), "n_cells": {k: v.n_obs for k, v in generated.items()}}


@stage(
    "plot-generated-code-factors",
    help="Bar charts of |Spearman rho| between generators' input codes and kNN-inferred factors.",
    section="figures",
    seeded=True,
    arguments=(
        _GENERATED,
        arg("--real", type=Path, required=True, help="preprocessed real cells with the factors"),
        arg("--factors", nargs="+", required=True, help="obs columns of the discrete factors"),
        arg("--knn-k", type=int, required=True, help="neighbours of the kNN (evaluation.knn_k)"),
        arg("--n-pcs", type=int, required=True, help="PCs of the kNN (evaluation.n_pcs)"),
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: {"real": a.real, **_named_inputs(a, "generated")},
    outputs=lambda a: {"figure": a.output},
)
def plot_generated_code_factors(
    args: argparse.Namespace, section: cfg.FiguresConfig
) -> dict[str, Any]:
    """Paper Figs S3 and S6: the correlations behind Table 3's Spearman gap of each generator."""
    from michigan.io import read_h5ad
    from michigan.metrics import read_factors, spearman_matrix
    from michigan.metrics.correlation import infer_factors_knn
    from michigan.plots import plot_code_factor_bars

    real = read_h5ad(args.real)
    factors = read_factors(real, factor_keys=args.factors)
    n_pcs = min(args.n_pcs, real.n_vars)
    spearman = {
        name: spearman_matrix(
            cells.obsm[keys.GENERATOR_CODE],
            infer_factors_knn(real.X, factors, cells.X, k=args.knn_k, n_pcs=n_pcs, seed=args.seed),
            allow_constant_factors=True,
        )
        for name, cells in _generated_cells(args).items()
    }
    plot_code_factor_bars(
        spearman,
        factor_names=args.factors,
        path=args.output,
        title=f"{args.label}: input codes vs the factors a {args.knn_k}-NN infers for the cells",
        dpi=section.dpi,
    )
    return {"models": list(spearman), "factors": list(args.factors)}


@stage(
    "plot-population",
    help="Draw the traversal population (figures.traversal_population) within the real cells' UMAP.",
    section="figures",
    arguments=(
        arg("--cells", type=Path, required=True, help="real cells' UMAP .h5ad (fit-umap --cells)"),
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: {"cells": a.cells},
    outputs=lambda a: {"figure": a.output},
)
def plot_population(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs S7b (heart fibroblasts in the whole Tabula Muris) and S8c (sci-Plex MCF7-S7259)."""
    from michigan.io import read_h5ad
    from michigan.plots import plot_embedding_groups
    from michigan.predict.traversal import select_population

    cells = read_h5ad(args.cells)
    selection = dict(section.traversal_population)
    mask = select_population(cells.obs, selection)
    if not mask.any():
        msg = f"no cell of {args.cells} matches figures.traversal_population {selection}"
        raise ValueError(msg)
    xy = cells.obsm[keys.UMAP]
    described = ", ".join(_condition(key, value) for key, value in selection.items()) or "all cells"
    plot_embedding_groups(
        xy,
        {described: {"traversal population": xy[mask]}},
        path=args.output,
        title=f"{args.label}: the cells the traversals start from",
        dpi=section.dpi,
    )
    return {"population_cells": int(mask.sum()), "cells": cells.n_obs}


@stage(
    "plot-heldout-cells",
    help="Draw each held-out combination's control, real and MichiGAN-predicted cells on the real UMAP.",
    section="figures",
    seeded=True,
    arguments=(
        arg("--input", type=Path, required=True, help="preprocessed .h5ad (all cells)"),
        arg("--embedding", type=Path, required=True, help="fitted PCA + UMAP (fit-umap --output)"),
        arg("--split", type=Path, required=True, help="split .json the models were trained on"),
        arg("--codes", type=Path, required=True, help="codes .h5ad of the representation model"),
        arg("--generator", type=Path, required=True, help="MichiGAN model directory"),
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: {
        "data": a.input,
        "embedding": a.embedding,
        "split": a.split,
        "codes": a.codes,
        "generator": a.generator,
    },
    outputs=lambda a: {"figure": a.output},
)
def plot_heldout_cells(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs 5 (low-Delta H run) and S10a (held-out run): one panel per prediction."""
    import numpy as np

    from michigan.api.cells import aligned
    from michigan.data.splits import read_split
    from michigan.io import read_h5ad
    from michigan.plots import plot_embedding_groups
    from michigan.predict.arithmetic import predict_codes
    from michigan.predict.tasks import prediction_tasks
    from michigan.train import load_generator

    adata = read_h5ad(args.input)
    embedding = _placing_embedding(args.embedding, adata, args.input)
    generator = load_generator(args.generator)
    if not generator.conditional:
        msg = f"{args.generator} holds {generator.model}, not a conditional generator"
        raise ValueError(msg)
    key = keys.CODE_SAMPLE if generator.info.get("codes") == "sampled" else keys.CODE_MEAN
    codes = aligned(read_h5ad(args.codes), adata.obs_names, source=args.codes).obsm[key]
    split = read_split(args.split)
    cell_types = adata.obs[keys.CELL_TYPE].astype(str).to_numpy()
    drugs = adata.obs[keys.DRUG].astype(str).to_numpy()
    available = adata.obs_names.isin(list(split.train))
    tasks = prediction_tasks(
        cell_types,
        drugs,
        available=available,
        held_out=split.pairs,
        all_combinations=False,
    )
    xy = embedding.coordinates
    panels = {}
    for task, child in zip(tasks, np.random.SeedSequence(args.seed).spawn(len(tasks)), strict=True):
        rng = np.random.default_rng(child)
        real = (cell_types == task.cell_type) & (drugs == task.drug)
        control = (cell_types == task.control_cell_type) & (drugs == task.drug)
        prediction = predict_codes(
            codes,
            cell_types,
            drugs,
            cell_type=task.cell_type,
            drug=task.drug,
            control_cell_type=task.control_cell_type,
            n_target=int(real.sum()),
            available=available,
            rng=rng,
        )
        predicted = generator.generate(seed=int(rng.integers(2**31 - 1)), codes=prediction.codes).x
        panels[f"{task.condition} from {task.control_cell_type}"] = {
            "control": xy[control],
            "real held-out": xy[real],
            "predicted (MichiGAN)": embedding.umap_transform(embedding.pca_transform(predicted)),
        }
    plot_embedding_groups(
        xy,
        panels,
        path=args.output,
        title=f"{args.label}: held-out combinations, control, real and predicted cells",
        dpi=section.dpi,
    )
    return {"predictions": list(panels), "code_mode": generator.info.get("codes")}


@stage(
    "plot-training-curves",
    help="Overlay the training curves (RF error, inception score per snapshot) of a run's models.",
    section="figures",
    arguments=(
        _named_files(
            "--curve",
            "CURVE_TSV",
            "a model's name and its training-curve .tsv (repeat for each model)",
        ),
        _IMAGE,
        _LABEL,
    ),
    inputs=lambda a: _named_inputs(a, "curve"),
    outputs=lambda a: {"figure": a.output},
)
def plot_training_curves(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs S4 (Tabula Muris heart) and S5c (whole Tabula Muris): one line per model."""
    import pandas as pd

    from michigan import plots

    curves = {name: pd.read_csv(path, sep="\t") for name, path in args.curve}
    plots.plot_training_curves(
        curves,
        path=args.output,
        title=f"{args.label}: generated cells' metrics over training",
        dpi=section.dpi,
    )
    return {"models": list(curves)}
