"""A held-out run's models, loaded for every cell, and the decoders that score its predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from michigan import keys
from michigan.predict.noise import gene_spread, noise_arms

if TYPE_CHECKING:
    from pathlib import Path

    import anndata as ad
    import numpy as np

    from michigan.api import Generator, Representation
    from michigan.predict.noise import Decode


class PredictionModels(NamedTuple):
    """Every cell with its codes in ``obsm``, and the run's representation and generator."""

    adata: ad.AnnData
    representation: Representation
    generator: Generator


def load_prediction_models(
    data: Path, codes: Path, representation_dir: Path, generator_dir: Path
) -> PredictionModels:
    """Read the preprocessed cells, attach the run's codes of every cell and load both models.

    Raises
    ------
    FileNotFoundError, ValueError
        If a file is missing, or the codes or a model do not match the cells.
    """
    from michigan.api import Generator, Representation
    from michigan.api.cells import CODE_KEYS, read_codes_of
    from michigan.io import read_h5ad

    adata = read_h5ad(data)
    for key, values in zip(
        CODE_KEYS, read_codes_of(read_h5ad(codes), adata.obs_names, source=codes), strict=True
    ):
        adata.obsm[key] = values
    return PredictionModels(
        adata,
        Representation.load(representation_dir, adata),
        Generator.load(generator_dir, adata),
    )


def prediction_decoders(models: PredictionModels, train: np.ndarray) -> dict[str, Decode]:
    """The representation's three noise arms (spread from the ``train`` cells only) and the generator.

    ``train`` is a boolean mask over ``models.adata``'s cells; no other cell enters the spread.
    """
    adata, representation, generator = models
    spread = gene_spread(
        adata.X[train], representation.decode(adata.obsm[keys.CODE_MEAN][train], seed=None)
    )
    return {
        **noise_arms(representation.decode, model=representation.model, spread=spread),
        generator.model: generator.decode,
    }
