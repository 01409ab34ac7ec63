"""AnnData in and out: the expression a model reads, codes in ``obsm``, generated cells.

Shared by the Python API (:mod:`michigan.api`) and the pipeline stages, so that a cell matrix, a codes
file and a generated file are built the same way whichever route made them.

A generated AnnData (:func:`generated_anndata`) has

- ``X``: the generated values, on the scale of the training data (z-scored log-normalised values
  after the shared recipe);
- ``obs``: the labels of the real cells whose codes conditioned it (conditional generators) or
  ``generated0, generated1, ...`` (unconditional ones), and ``obs["generated"] = True``;
- ``var``: the real data's per-gene ``mean`` and ``std`` of the scaling when it has them
  (``sc.pp.scale`` writes them), so that :func:`unscale` returns log-normalised values;
- ``obsm["X_generator_code"]``: the generator's input code of each cell;
- ``uns["michigan"]``: the model, its settings, the seed and the package versions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anndata as ad
import numpy as np
import pandas as pd

from michigan import keys
from michigan.io import package_versions

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from michigan.train import Codes

logger = logging.getLogger(__name__)

#: ``uns`` key of a generated AnnData's provenance
PROVENANCE = "michigan"
#: ``obs`` column marking generated cells
GENERATED = "generated"
#: ``var`` columns of the per-gene scaling written by ``sc.pp.scale``
SCALING_COLUMNS = ("mean", "std")
#: ``obsm`` keys of a codes AnnData, in the order of :class:`michigan.train.Codes`
CODE_KEYS = (keys.CODE_MEAN, keys.CODE_LOGSIGMA, keys.CODE_SAMPLE)


def expression(adata: ad.AnnData, layer: str | None = None) -> Any:
    """The ``[cells, genes]`` matrix a model reads: ``adata.X`` or ``adata.layers[layer]``.

    Raises
    ------
    KeyError
        Naming the missing layer and the layers there are.
    """
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        msg = f"adata has no layer {layer!r}; its layers are {sorted(adata.layers)}"
        raise KeyError(msg)
    return adata.layers[layer]


def check_genes(adata: ad.AnnData, genes: pd.Index | list[str], *, what: str) -> None:
    """Raise unless ``adata`` has exactly ``genes``, in that order (the genes ``what`` was trained on).

    Raises
    ------
    ValueError
        Naming the count or the first gene that differs.
    """
    expected = pd.Index(genes)
    if adata.n_vars != len(expected):
        msg = f"{what} was trained on {len(expected)} genes; this AnnData has {adata.n_vars}"
        raise ValueError(msg)
    differs = np.flatnonzero(adata.var_names.to_numpy() != expected.to_numpy())
    if differs.size:
        i = int(differs[0])
        msg = (
            f"{what} was trained on other genes: var_names[{i}] is {adata.var_names[i]!r}, "
            f"expected {expected[i]!r} (reorder with adata[:, genes])"
        )
        raise ValueError(msg)


def obsm_anndata(adata: ad.AnnData, obsm: Mapping[str, np.ndarray]) -> ad.AnnData:
    """The cells' ``obs`` and the given ``obsm`` arrays, without expression (codes, embeddings)."""
    out = ad.AnnData(obs=adata.obs.copy())
    for key, values in obsm.items():
        out.obsm[key] = values
    return out


def codes_anndata(adata: ad.AnnData, codes: Codes) -> ad.AnnData:
    """The cells' ``obs`` with their codes in ``obsm`` (:data:`keys.CODE_MEAN`, ``_LOGSIGMA``, ``_SAMPLE``)."""
    return obsm_anndata(adata, dict(zip(CODE_KEYS, codes, strict=True)))


def aligned(adata: ad.AnnData, obs_names: pd.Index, *, source: str | Path) -> ad.AnnData:
    """``adata`` restricted to ``obs_names``, in that order.

    Raises
    ------
    KeyError
        Naming ``source`` and some of the cells it lacks.
    """
    missing = pd.Index(obs_names).difference(adata.obs_names)
    if len(missing):
        msg = f"{source} lacks {len(missing)} of the cells, e.g. {list(missing[:3])}"
        raise KeyError(msg)
    return adata[obs_names]


def training_cells(adata: ad.AnnData, split: str | Path | None) -> ad.AnnData:
    """The cells a model trains on: all, or the training cells of a held-out split file.

    Raises
    ------
    ValueError
        Naming the split file when it lists cells the data lack.
    """
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


def read_codes_of(codes: ad.AnnData, obs_names: pd.Index, *, source: str | Path) -> Codes:
    """The codes (means, log standard deviations, samples) of ``obs_names`` in a codes AnnData."""
    from michigan.train import Codes

    missing = [key for key in CODE_KEYS if key not in codes.obsm]
    if missing:
        msg = f"{source}: no codes in obsm {missing} (a codes file of `michigan encode` has {list(CODE_KEYS)})"
        raise ValueError(msg)
    obsm = aligned(codes, obs_names, source=source).obsm
    return Codes(*(np.asarray(obsm[key]) for key in CODE_KEYS))


def conditioning_codes(codes: Codes, mode: str) -> np.ndarray:
    """The codes a conditional generator is fed: posterior means (``"mean"``) or samples (``"sampled"``)."""
    if mode not in ("mean", "sampled"):
        msg = f"code mode must be 'mean' or 'sampled', got {mode!r}"
        raise ValueError(msg)
    return codes.mean if mode == "mean" else codes.sample


def provenance(model: str, *, settings: Mapping[str, Any], seed: int, **extra: Any) -> dict:
    """``uns["michigan"]`` of a generated AnnData: model, settings, seed, extras and versions.

    ``None`` values are left out (h5ad cannot store them).
    """
    record = {"model": model, "settings": dict(settings), "seed": seed, **extra}
    record["versions"] = package_versions()
    return _without_none(record)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value


def generated_anndata(
    x: np.ndarray,
    *,
    reference: ad.AnnData,
    obs: pd.DataFrame | None,
    code: np.ndarray | None,
    uns: Mapping[str, Any],
) -> ad.AnnData:
    """Generated cells as an AnnData with the real data's genes (see the module docstring).

    Parameters
    ----------
    x
        ``[cells, genes]`` generated values.
    reference
        Real cells on the same genes: their ``var_names`` and scaling columns are copied.
    obs
        Labels of the generated cells (one row each; the index becomes ``obs_names``), or ``None``
        for cells that are no real cell's counterpart (named ``generated0, generated1, ...``).
    code
        ``[cells, code_dim]`` generator input codes for ``obsm`` (``None``: none).
    uns
        The provenance record (:func:`provenance`).
    """
    scaling = [c for c in SCALING_COLUMNS if c in reference.var.columns]
    var = reference.var[scaling].copy() if len(scaling) == len(SCALING_COLUMNS) else None
    if var is None:
        var = pd.DataFrame(index=reference.var_names.copy())
    if obs is None:
        obs = pd.DataFrame(index=[f"generated{i}" for i in range(x.shape[0])])
    obs = obs.copy()
    obs[GENERATED] = True
    out = ad.AnnData(np.asarray(x, dtype=np.float32), obs=obs, var=var)
    if code is not None:
        out.obsm[keys.GENERATOR_CODE] = np.asarray(code)
    out.uns[PROVENANCE] = dict(uns)
    return out


def unscale(adata: ad.AnnData) -> np.ndarray:
    """Undo the per-gene scaling: ``X * var["std"] + var["mean"]``, the log-normalised values.

    Values the real data's scaling clipped (``scale_max_value``) are not restored; generated values
    were never clipped.

    Raises
    ------
    KeyError
        If ``var`` lacks the ``mean`` and ``std`` columns (data that was not scaled).
    """
    missing = [c for c in SCALING_COLUMNS if c not in adata.var.columns]
    if missing:
        msg = (
            f"adata.var lacks {missing}: the data were not scaled by the shared recipe "
            "(preprocess scale=true), so X is already on the log-normalised scale"
        )
        raise KeyError(msg)
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    return x * adata.var["std"].to_numpy() + adata.var["mean"].to_numpy()
