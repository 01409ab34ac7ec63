"""A simulated drug perturbation screen with known cell type x drug interactions, on the Splat model.

Stands in for sci-Plex (Srivatsan et al., Science 2020) in the held-out-combination experiment of
MichiGAN (Yu & Welch, Genome Biology 2021, Fig. 4) when the real data cannot be downloaded. Cell
types play the role of Splat batches, drugs the role of Splat groups (DE factors against the
vehicle control), and chosen (cell type, drug) combinations get extra DE factors of their own: an
interaction. Without interaction a combination's mean is ``GeneMean x CellTypeFac x DEFac`` — a
cell type effect times a drug effect, additive on the log scale — so latent arithmetic
(``vehicle of the cell type + drug effect seen in other cell types``) predicts it; with
interaction it does not, which is the ground truth that ΔH must detect.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, ClassVar

import anndata as ad
import numpy as np
import pandas as pd

from michigan import keys
from michigan.simulate import model
from michigan.simulate.counts import CellLayout, row_totals
from michigan.simulate.layout import native_backend
from michigan.simulate.params import SplatCoreParams, param

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

VEHICLE_NAME = "Vehicle"


def cell_type_names(n: int) -> list[str]:
    """Labels ``CellType1..CellTypeN``."""
    return [f"CellType{i}" for i in range(1, n + 1)]


def drug_names(n: int) -> list[str]:
    """Labels ``Drug1..DrugN`` (the vehicle control is :data:`VEHICLE_NAME`)."""
    return [f"Drug{i}" for i in range(1, n + 1)]


def condition_name(cell_type: str, drug: str) -> str:
    """``"<cell_type>-<drug>"``, the label of a combination (``keys.CONDITION``)."""
    return f"{cell_type}-{drug}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScreenParams(SplatCoreParams):
    """Parameters of the simulated perturbation screen.

    The gene-mean, outlier, library-size and BCV parameters are Splat's (inherited, same names
    and defaults as :class:`~michigan.simulate.params.SplatParams`, except ``n_genes``).

    Raises
    ------
    ValueError
        On construction, for a value out of range or an interaction naming an unknown cell type or
        drug, the vehicle, or one combination twice.
    """

    owner: ClassVar[str] = "screen"

    n_genes: int = param(1000, dtype=int, lower=1, upper=10**6, description="Number of genes G.")
    n_cell_types: int = param(
        3, dtype=int, lower=1, upper=10**4, description="Number of cell types (Splat batches)."
    )
    n_drugs: int = param(
        6,
        dtype=int,
        lower=1,
        upper=10**4,
        description="Number of drugs besides the vehicle control.",
    )
    cells_per_condition: int = param(
        100,
        dtype=int,
        lower=1,
        upper=10**6,
        description="Cells of every (cell type, drug or vehicle) combination.",
    )
    cell_type_fac_loc: float = param(
        0.5, description="Meanlog of the cell type factors (every gene, half up, half down)."
    )
    cell_type_fac_scale: float = param(0.2, lower=0, description="Sdlog of the cell type factors.")
    drug_de_prob: float = param(
        0.2, lower=0, upper=1, description="Probability that a gene responds to a drug."
    )
    drug_de_down_prob: float = param(
        0.5, lower=0, upper=1, description="Probability that a drug response is down-regulation."
    )
    drug_de_fac_loc: float = param(0.5, description="Meanlog of the drug DE factors.")
    drug_de_fac_scale: float = param(0.3, lower=0, description="Sdlog of the drug DE factors.")
    interactions: tuple[str, ...] = param(
        ("CellType1-Drug1", "CellType2-Drug3", "CellType3-Drug5"),
        dtype=str,
        shape="vector",
        min_items=0,
        description="Combinations '<cell_type>-<drug>' whose drug response differs in that cell type.",
    )
    interaction_de_prob: float = param(
        0.4,
        lower=0,
        upper=1,
        description="Probability that a gene gets an extra interaction factor in an interacting combination.",
    )
    interaction_de_down_prob: float = param(
        0.5, lower=0, upper=1, description="Probability that an interaction factor is below 1."
    )
    interaction_fac_loc: float = param(
        2.0, description="Meanlog of the interaction factors (the interaction strength)."
    )
    interaction_fac_scale: float = param(
        0.3, lower=0, description="Sdlog of the interaction factors."
    )

    @property
    def conditions(self) -> list[tuple[str, str]]:
        """Every (cell type, drug) combination, cell type major, vehicle first."""
        drugs = [VEHICLE_NAME, *drug_names(self.n_drugs)]
        return [(c, d) for c in cell_type_names(self.n_cell_types) for d in drugs]

    @property
    def n_cells(self) -> int:
        """Number of cells: one block of ``cells_per_condition`` per combination."""
        return len(self.conditions) * self.cells_per_condition

    def _check(self) -> None:
        valid = {condition_name(c, d) for c, d in self.conditions if d != VEHICLE_NAME}
        unknown = [name for name in self.interactions if name not in valid]
        if unknown:
            msg = (
                f"screen parameter 'interactions' names {unknown}, which are not drug combinations "
                f"of this screen; expected '<cell_type>-<drug>' with cell types "
                f"{cell_type_names(self.n_cell_types)} and drugs {drug_names(self.n_drugs)} "
                f"(the vehicle cannot interact)"
            )
            raise ValueError(msg)
        if len(set(self.interactions)) != len(self.interactions):
            msg = f"screen parameter 'interactions' lists a combination twice: {list(self.interactions)}"
            raise ValueError(msg)


def _de_factors_by_name(
    rng: np.random.Generator,
    names: Sequence[str],
    n_genes: int,
    *,
    prob: float,
    down_prob: float,
    loc: float,
    scale: float,
) -> dict[str, np.ndarray]:
    """One Splat DE factor vector ``[genes]`` per name, drawn in the order of ``names``."""
    return {
        name: model.lognormal_factors(
            rng, n_genes, sel_prob=prob, neg_prob=down_prob, loc=loc, scale=scale
        )
        for name in names
    }


def simulate_screen(params: ScreenParams, *, n_threads: int | None = None) -> ad.AnnData:
    """Simulate a cell type x drug perturbation screen with the native Splat model.

    Model (Splat groups mode with batches, plus interactions): cells of cell type t and drug d
    (vehicle: no DE) have relative means
    ``GeneMean_g x CellTypeFac_t[g] x DEFac_d[g] x InteractionFac_{t,d}[g]``, where
    ``CellTypeFac`` is a Splat batch factor (``log = +-|N(cell_type_fac_loc, cell_type_fac_scale^2)|``
    for every gene), ``DEFac`` a Splat DE factor (``drug_de_*``; 1 for the vehicle) and
    ``InteractionFac`` a further DE factor (``interaction_*``) for the combinations in
    ``params.interactions`` (1 elsewhere). Library sizes, BCV and gamma-Poisson counts follow Splat
    (:func:`michigan.simulate.counts.sample_counts`).

    Parameters
    ----------
    params
        Screen parameters.
    n_threads
        Threads for the count sampling (the result does not depend on it).

    Returns
    -------
    anndata.AnnData
        ``[cells, genes]``, cells ordered by cell type, then vehicle, Drug1, Drug2, ... ``X``:
        integer counts (CSR). ``obs``: ``keys.CELL_TYPE``, ``keys.DRUG``, ``keys.CONDITION``
        (``"<cell_type>-<drug>"``; categoricals), ``keys.VEHICLE`` (bool), ``ExpLibSize``,
        ``keys.LIBRARY_SIZE``. ``var``: ``BaseGeneMean``, ``OutlierFactor``, ``GeneMean``,
        ``CellTypeFac<cell type>``, ``DEFac<drug>``, ``InteractionFac<condition>`` (interacting
        conditions only). ``uns``: ``keys.SCREEN_PARAMS``, ``keys.INTERACTING_CONDITIONS`` (list of
        condition names: the ground truth), ``keys.SIMULATION_BACKEND``.
    """
    main_seed, counts_seed = np.random.SeedSequence(params.seed).spawn(2)
    rng = np.random.default_rng(main_seed)
    cell_types = cell_type_names(params.n_cell_types)
    drugs = drug_names(params.n_drugs)
    conditions = params.conditions
    condition_index = np.repeat(np.arange(len(conditions)), params.cells_per_condition)
    exp_lib_size, means = model.library_sizes_and_gene_means(rng, params, params.n_cells)
    cell_type_factors = model.batch_factors(
        rng,
        params.n_genes,
        locs=[params.cell_type_fac_loc] * params.n_cell_types,
        scales=[params.cell_type_fac_scale] * params.n_cell_types,
    )
    drug_factors = _de_factors_by_name(
        rng,
        drugs,
        params.n_genes,
        prob=params.drug_de_prob,
        down_prob=params.drug_de_down_prob,
        loc=params.drug_de_fac_loc,
        scale=params.drug_de_fac_scale,
    )
    interaction_factors = _de_factors_by_name(
        rng,
        params.interactions,
        params.n_genes,
        prob=params.interaction_de_prob,
        down_prob=params.interaction_de_down_prob,
        loc=params.interaction_fac_loc,
        scale=params.interaction_fac_scale,
    )
    ones = np.ones(params.n_genes)
    condition_factors = np.stack(
        [
            drug_factors.get(drug, ones) * interaction_factors.get(condition_name(c, drug), ones)
            for c, drug in conditions
        ]
    )
    layout = CellLayout(
        gene_means=means.mean * cell_type_factors,
        cell_factors=condition_factors,
        batch=condition_index // (params.n_drugs + 1),
        factor_row=condition_index,
        library_size=exp_lib_size,
    )
    counts = model.counts_for_layout(
        rng, layout, params, dropout=None, seed=counts_seed, n_threads=n_threads
    )
    var = pd.DataFrame(
        {
            "BaseGeneMean": means.base,
            "OutlierFactor": means.outlier_factor,
            "GeneMean": means.mean,
            **{f"CellTypeFac{c}": cell_type_factors[i] for i, c in enumerate(cell_types)},
            **{f"DEFac{d}": drug_factors[d] for d in drugs},
            **{f"InteractionFac{name}": f for name, f in interaction_factors.items()},
        },
        index=pd.Index([f"Gene{i}" for i in range(1, params.n_genes + 1)]),
    )
    cell_type = np.array([c for c, _ in conditions])[condition_index]
    drug = np.array([d for _, d in conditions])[condition_index]
    obs = pd.DataFrame(
        {
            keys.CELL_TYPE: pd.Categorical(cell_type, categories=cell_types),
            keys.DRUG: pd.Categorical(drug, categories=[VEHICLE_NAME, *drugs]),
            keys.CONDITION: pd.Categorical(
                [condition_name(c, d) for c, d in zip(cell_type, drug, strict=True)],
                categories=[condition_name(c, d) for c, d in conditions],
            ),
            keys.VEHICLE: drug == VEHICLE_NAME,
            "ExpLibSize": exp_lib_size,
            keys.LIBRARY_SIZE: row_totals(counts),
        },
        index=pd.Index([f"Cell{i}" for i in range(1, params.n_cells + 1)]),
    )
    adata = ad.AnnData(X=counts, obs=obs, var=var)
    adata.uns[keys.SCREEN_PARAMS] = params.to_dict()
    adata.uns[keys.INTERACTING_CONDITIONS] = list(params.interactions)
    adata.uns[keys.SIMULATION_BACKEND] = native_backend()
    logger.info(
        "simulated screen: %d cell types x (%d drugs + vehicle), %d cells x %d genes, "
        "interacting: %s",
        params.n_cell_types,
        params.n_drugs,
        params.n_cells,
        params.n_genes,
        ", ".join(params.interactions) or "none",
    )
    return adata
