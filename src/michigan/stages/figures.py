"""Figure stages: the real cells' UMAP, UMAPs coloured by codes, code x factor bars, latent traversals.

Each stage reads result files, calls the library (:mod:`michigan.plots`,
:mod:`michigan.predict.traversal`) and writes its images and tables; the ``figures`` config section
sets the UMAP, the traversals and the image resolution.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import keys
from michigan.stages import arg, stage

if TYPE_CHECKING:
    import argparse

    import pandas as pd

    from michigan import config as cfg

logger = logging.getLogger(__name__)

_LABEL = arg(
    "--label", required=True, help="what the figures show, e.g. 'simulated/linear, seed 0'"
)
_CODES = arg(
    "--codes",
    nargs=2,
    action="append",
    required=True,
    metavar=("MODEL", "CODES_H5AD"),
    help="a representation model's name and its codes .h5ad (repeat for each model)",
)
_IMAGE = arg("--output", type=Path, required=True, help="image to write (.png, .svg or .pdf)")


def _codes_inputs(args: argparse.Namespace) -> dict[str, Path]:
    return {f"codes_{name}": Path(path) for name, path in args.codes}


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
    inputs=lambda a: {"cells": a.cells, **_codes_inputs(a)},
    outputs=lambda a: {"figure": a.output},
)
def plot_codes(args: argparse.Namespace, section: cfg.FiguresConfig) -> dict[str, Any]:
    """Paper Figs 2, S2, S3, S5 and S6: one row of panels per model."""
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
    inputs=_codes_inputs,
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
    from michigan.plots.embedding import load_embedding
    from michigan.predict import traversal
    from michigan.train import load_generator, load_representation

    adata = read_h5ad(args.input)
    embedding = load_embedding(args.embedding)
    if len(embedding.coordinates) != adata.n_obs:
        msg = f"{args.embedding} embeds {len(embedding.coordinates)} cells, {args.input} has {adata.n_obs}"
        raise ValueError(msg)
    embedding = embedding.with_umap(adata.X, source=str(args.embedding))
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


def _write_tsv(table: pd.DataFrame, path: Path) -> None:
    from michigan.io import atomic_path

    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
