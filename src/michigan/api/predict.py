"""Predict the cells of a (cell type, drug) combination by latent arithmetic (paper section 2.4).

The control cell type's cells under the drug are encoded, shifted by the difference of the two cell
types' mean codes over the treatments both share (:func:`michigan.predict.arithmetic.predict_codes`),
and decoded by the conditional generator. The codes are posterior means or posterior samples, as the
generator was trained on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from michigan import keys
from michigan.api.cells import conditioning_codes, generated_anndata, provenance
from michigan.predict.arithmetic import predict_codes
from michigan.predict.tasks import obs_labels, usable_controls

if TYPE_CHECKING:
    from collections.abc import Sequence

    import anndata as ad

    from michigan.api.generator import Generator
    from michigan.api.representation import Representation

#: ``obs`` column of a predicted cell's control cell type
CONTROL_CELL_TYPE = "control_cell_type"


def predict_combination(
    adata: ad.AnnData,
    representation: Representation,
    generator: Generator,
    *,
    cell_type: str,
    drug: str,
    cell_type_key: str = keys.CELL_TYPE,
    drug_key: str = keys.DRUG,
    control_cell_types: Sequence[str] | None = None,
    n_cells: int | None = None,
    seed: int = 0,
) -> ad.AnnData:
    """Predicted cells of ``cell_type`` under ``drug``, from every control cell type under ``drug``.

    Parameters
    ----------
    adata
        Cells with ``obs[cell_type_key]`` and ``obs[drug_key]`` (the combination's own cells, if
        present, never enter the prediction).
    representation
        The trained representation whose codes condition ``generator``.
    generator
        A trained conditional generator (MichiGAN or CWGAN-GP) on ``representation``'s codes.
    cell_type, drug
        The combination to predict.
    cell_type_key, drug_key
        ``obs`` columns of the labels.
    control_cell_types
        Cell types whose cells under ``drug`` are shifted (default: every other cell type with
        cells under ``drug`` and a treatment in common with ``cell_type``, as the pipeline's).
    n_cells
        Predicted cells per control cell type (default: the control's cells under ``drug``).
    seed
        Seeds the posterior samples, the resampling and the generator's noise.

    Returns
    -------
    anndata.AnnData
        ``obs``: ``cell_type_key``, ``drug_key``, ``control_cell_type`` and ``generated``; the
        generated AnnData layout of :mod:`michigan.api.cells`, with the prediction in
        ``uns["michigan"]``.

    Raises
    ------
    KeyError
        A missing ``obs`` column.
    ValueError
        A generator that is not conditional on ``representation``'s codes, an unknown cell type,
        or a control that shares no treatment with ``cell_type``.
    """
    if not generator.conditional or generator.representation is not representation:
        msg = (
            f"predict_combination needs a conditional generator trained on this representation's "
            f"codes; got a {type(generator).__name__} conditioned on {generator.representation!r}"
        )
        raise ValueError(msg)
    cell_types, drugs = obs_labels(adata, cell_type_key), obs_labels(adata, drug_key)
    if cell_type not in set(cell_types):
        msg = f"cell type {cell_type!r} is not in obs[{cell_type_key!r}]: {sorted(set(cell_types))}"
        raise ValueError(msg)
    if control_cell_types is None:
        treatments = {c: set(drugs[cell_types == c]) for c in set(cell_types)}
        control_cell_types = usable_controls(cell_type, drug, treatments)
    if not control_cell_types:
        msg = (
            f"no other cell type has cells under {drug!r} and a treatment in common with "
            f"{cell_type!r} to predict from"
        )
        raise ValueError(msg)
    code_seed, arithmetic_seed, noise_seed = np.random.SeedSequence(seed).generate_state(3)
    encoded = representation.encode(adata, seed=int(code_seed))
    codes = conditioning_codes(encoded, generator.codes)
    rng = np.random.default_rng(arithmetic_seed)
    shifted, controls = [], []
    for control in control_cell_types:
        n_target = n_cells or int(np.sum((cell_types == control) & (drugs == drug)))
        prediction = predict_codes(
            codes,
            cell_types,
            drugs,
            cell_type=cell_type,
            drug=drug,
            control_cell_type=control,
            n_target=max(n_target, 1),
            rng=rng,
        )
        shifted.append(prediction.codes.astype(np.float32))
        controls += [control] * len(prediction.codes)
    predicted_codes = np.concatenate(shifted)
    x = generator.decode(predicted_codes, seed=int(noise_seed))
    obs = pd.DataFrame(
        {cell_type_key: cell_type, drug_key: drug, CONTROL_CELL_TYPE: controls},
        index=[f"predicted{i}" for i in range(len(controls))],
    )
    uns = provenance(
        generator.model,
        settings=generator.settings(),
        seed=seed,
        training_seed=generator.seed,
        codes=generator.codes,
        representation=representation.model,
        prediction={
            "cell_type": cell_type,
            "drug": drug,
            "control_cell_types": list(control_cell_types),
        },
    )
    return generated_anndata(x, reference=adata, obs=obs, code=predicted_codes, uns=uns)
