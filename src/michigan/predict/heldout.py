"""Held-out combination prediction (paper section 2.4, Fig. 4): latent arithmetic, decoding, metrics.

For a model run trained without some (cell type, drug) combinations, every combination to predict
(the held-out ones, and optionally every other observed one for the Fig. 4a-b scatter) is predicted
from *each other cell type* as control: the control's codes under the drug are shifted by the cell
type difference (:func:`michigan.predict.arithmetic.predict_codes`, training cells only), then decoded
by every decoder given (the representation model's decoder in the noise arms of
:mod:`michigan.predict.noise`, unit noise as the original; the MichiGAN generator with fresh noise). Each prediction is scored against the combination's real cells
with :func:`michigan.metrics.evaluate_prediction` (RF error, R^2 in the scGen and CPA forms,
E-distance, MMD) and by the latent-space entropy gap Delta H of its predicted codes
(:func:`michigan.metrics.delta_h`, paper estimator and leave-own-out, at one fixed N).

Choices where the paper and the original code are silent (docs/prediction.md):

- *Cell counts.* A prediction has as many cells as the combination has real cells (the paper),
  capped at ``max_cells`` by a seeded subsample of the real cells.
- *Delta H at a fixed N.* Every Delta H of a run uses the same N (the smaller of ``delta_h_cells``
  and the smallest prediction), the first N of the (randomly ordered) real and predicted cells,
  because the estimator depends on N through ``log N`` (docs/metrics.md section 7).
- *Codes.* A run on sampled codes shifts posterior samples and uses samples as the real codes of
  Delta H; a run on means uses means for both (the shared spec section 5.8).
- *Baseline.* The ``_control`` metrics score the control cell type's real cells under the drug,
  i.e. the prediction without the shift, so every metric shows what the arithmetic added.
- *Reference rows.* Every metric is also computed for two references, as rows of their own: the
  unshifted control cells (the floor: what a prediction that did nothing scores) and, once per
  combination, one half of its real cells against the other (the ceiling: what a perfect
  prediction scores at this cell count).
- *Seeds.* Every prediction draws from its own child of ``SeedSequence(seed)`` (by its position in
  the task list), and both decoders of a prediction are scored with the same metric seed, so
  their RF errors are paired.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse
from scipy.stats import mannwhitneyu

from michigan import keys
from michigan.data.splits import condition_name
from michigan.metrics import delta_h, evaluate_prediction, read_codes
from michigan.predict.arithmetic import predict_codes
from michigan.predict.tasks import (
    CEILING,
    FLOOR,
    PredictionTask,
    obs_labels,
    prediction_tasks,
    vehicle_drugs,
)
from michigan.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    import anndata as ad
    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

CodeMode = Literal["mean", "sampled"]


@dataclasses.dataclass(frozen=True)
class PredictionSettings:
    """How predictions are made and scored (config section ``prediction`` plus the RF settings).

    Attributes
    ----------
    all_combinations
        Predict every observed combination, not only the held-out ones (Fig. 4a-b scatter).
    max_cells
        Cap on the real and predicted cells of one prediction (``None``: all real cells).
    delta_h_cells
        Upper bound on the common N of every Delta H.
    n_de_genes
        Top DE genes for the ``_de`` R^2 values (0: none).
    n_pcs
        Principal components of the E-distance, MMD and RF error (capped by genes and cells).
    rf_trees, rf_folds
        Trees and folds of the RF error (paper: 1000 and 5).
    n_jobs
        Parallel jobs of the forests (the results do not depend on it).
    """

    all_combinations: bool = True
    max_cells: int | None = None
    delta_h_cells: int = 500
    n_de_genes: int = 50
    n_pcs: int = 50
    rf_trees: int = 1000
    rf_folds: int = 5
    n_jobs: int | None = None


class HeldOutPredictions(NamedTuple):
    """The tidy table of a prediction run and the convention of each metric column.

    Attributes
    ----------
    table
        One row per (prediction, decoder); see :func:`predict_heldout`.
    conventions
        Metric column -> the definition and settings that produced its values.
    """

    table: pd.DataFrame
    conventions: dict[str, str]


def top_de_genes(treated: ArrayLike, control: ArrayLike, *, n: int) -> np.ndarray:
    r"""Indices of the ``n`` genes that differ most between treated and control cells.

    Genes are ranked by the absolute Wilcoxon rank-sum score
    :math:`|U_g - n_t n_c / 2|`, with :math:`U_g` the Mann-Whitney statistic of gene g (average
    ranks for ties): the order of scanpy's ``rank_genes_groups(method="wilcoxon",
    rankby_abs=True)`` without tie correction (its z-score is this difference over a constant).

    Parameters
    ----------
    treated, control
        ``[cells, genes]`` real cells of the treated combination and of the vehicle controls of
        the same cell type.
    n
        Number of genes (at most the number of genes).

    Returns
    -------
    np.ndarray
        ``[min(n, genes)]`` gene indices, most different first (ties by index).

    Notes
    -----
    Reference: docs/metrics.md section 8.1 (DE genes from real data only, within cell type).
    """
    treated_arr, control_arr = np.asarray(treated), np.asarray(control)
    statistic = mannwhitneyu(treated_arr, control_arr, axis=0).statistic
    score = np.abs(statistic - treated_arr.shape[0] * control_arr.shape[0] / 2)
    return np.argsort(-score, kind="stable")[: min(n, score.size)]


def dense_rows(x: ArrayLike, rows: np.ndarray) -> np.ndarray:
    """Rows of an expression matrix (dense or sparse) as a dense float64 array."""
    picked = x[rows]
    picked = picked.toarray() if scipy.sparse.issparse(picked) else np.asarray(picked)
    return picked.astype(np.float64)


def predict_heldout(
    adata: ad.AnnData,
    *,
    decoders: Mapping[str, Callable[[np.ndarray, int], np.ndarray]],
    train_cells: Collection[str],
    held_out: Sequence[tuple[str, str]],
    code_mode: CodeMode,
    settings: PredictionSettings,
    seed: int,
    interacting: Collection[str] | None = None,
    cell_type_key: str = keys.CELL_TYPE,
    drug_key: str = keys.DRUG,
    vehicle_key: str = keys.VEHICLE,
) -> HeldOutPredictions:
    """Predict held-out (and optionally all) combinations by latent arithmetic and score them.

    Parameters
    ----------
    adata
        ``[cells, genes]`` every cell, with the expression the models were trained on in ``X``,
        the labels in ``obs[cell_type_key]`` and ``obs[drug_key]`` (and ``obs[vehicle_key]``, bool,
        for the DE genes), and the codes of the run's representation model in ``obsm``
        (:data:`keys.CODE_MEAN`, :data:`keys.CODE_LOGSIGMA`, :data:`keys.CODE_SAMPLE`).
    decoders
        Name -> ``decode(codes [cells, K], seed) -> [cells, genes]``; every prediction is decoded
        by each (e.g. ``{"btcvae": ..., "michigan": ...}``).
    train_cells
        obs names of the cells the models were trained on; only they enter the arithmetic.
    held_out
        The run's held-out ``(cell_type, drug)`` pairs.
    code_mode
        ``"sampled"``: shift the posterior samples, and use samples as the real codes of Delta H;
        ``"mean"``: posterior means for both.
    settings
        See :class:`PredictionSettings`.
    seed
        Root seed of every draw (see the module docstring).
    interacting
        Ground-truth interacting conditions ``"<cell_type>-<drug>"`` (a simulated screen's
        ``uns[keys.INTERACTING_CONDITIONS]``); adds the ``interacting`` and
        ``control_interacting`` columns.
    cell_type_key, drug_key, vehicle_key
        obs columns of the labels.

    Returns
    -------
    HeldOutPredictions
        ``table`` has one row per (prediction, decoder): ``condition``, ``cell_type``, ``drug``,
        ``control_cell_type``, ``held_out`` (bool), [``interacting``, ``control_interacting``],
        ``codes``, ``decoder``, ``n_real``, ``n_predicted``, ``delta_h_cells`` (N),
        ``delta_h``, ``delta_h_leave_own_out`` (nats; the same for every decoder of a
        prediction) and every value of :func:`michigan.metrics.evaluate_prediction`
        (``_de`` values NaN where the combination has no DE genes: vehicles, no vehicle cells).
        Besides the decoders, two reference rows per prediction: ``decoder`` =
        :data:`~michigan.predict.tasks.FLOOR` scores the control cells under the drug, unshifted,
        and :data:`~michigan.predict.tasks.CEILING` one half of the real cells against the other
        (computed once per combination; left out when a half has fewer than
        ``max(2, rf_folds)`` cells).

    Raises
    ------
    KeyError
        If an obs column or obsm key is missing.
    ValueError
        If ``code_mode`` or ``decoders`` is invalid, a held-out pair cannot be predicted, or the
        smallest prediction has fewer cells than 2 or than the RF folds.
    """
    if code_mode not in ("mean", "sampled"):
        msg = f"code_mode must be 'mean' or 'sampled', got {code_mode!r}"
        raise ValueError(msg)
    if not decoders:
        msg = "give at least one decoder"
        raise ValueError(msg)
    reserved = sorted({FLOOR, CEILING} & set(decoders))
    if reserved:
        msg = f"decoder names {reserved} are reserved for the reference rows"
        raise ValueError(msg)
    cell_types = obs_labels(adata, cell_type_key)
    drugs = obs_labels(adata, drug_key)
    mean, logsigma, sample = read_codes(adata)
    for key, value in ((keys.CODE_LOGSIGMA, logsigma), (keys.CODE_SAMPLE, sample)):
        if value is None:
            msg = f"adata.obsm has no {key!r} (codes from `michigan encode`); found {sorted(adata.obsm)}"
            raise KeyError(msg)
    codes = mean if code_mode == "mean" else sample
    available = adata.obs_names.isin(list(train_cells))
    vehicles = set(vehicle_drugs(adata.obs, drug_key=drug_key, vehicle_key=vehicle_key))
    tasks = prediction_tasks(
        cell_types,
        drugs,
        available=available,
        held_out=held_out,
        all_combinations=settings.all_combinations,
    )
    members = {
        (t.cell_type, t.drug): np.flatnonzero((cell_types == t.cell_type) & (drugs == t.drug))
        for t in tasks
    }
    sizes = {pair: _capped(len(rows), settings.max_cells) for pair, rows in members.items()}
    smallest = min(sizes, key=sizes.get)
    n_entropy = min(settings.delta_h_cells, sizes[smallest])
    if sizes[smallest] < max(2, settings.rf_folds):
        msg = (
            f"{condition_name(*smallest)} has {sizes[smallest]} cells to predict; the RF error "
            f"needs at least rf_folds={settings.rf_folds} and Delta H at least 2"
        )
        raise ValueError(msg)
    logger.info(
        "%d predictions (%d combinations) on %s codes, %d decoders, Delta H at N=%d",
        len(tasks),
        len(members),
        code_mode,
        len(decoders),
        n_entropy,
    )
    de_genes = _de_gene_sets(adata.X, cell_types, drugs, members, vehicles, settings.n_de_genes)
    interacting_set = None if interacting is None else set(interacting)
    rows, conventions = [], {}
    ceilings: dict[tuple[str, str], tuple[int, dict] | None] = {}
    progress = Progress(len(tasks), desc="prediction", unit="predictions", logger=logger)
    for index, (task, child) in enumerate(
        zip(tasks, np.random.SeedSequence(seed).spawn(len(tasks)), strict=True), start=1
    ):
        rng = np.random.default_rng(child)
        real_rows = rng.permutation(members[(task.cell_type, task.drug)])[
            : sizes[(task.cell_type, task.drug)]
        ]
        prediction = predict_codes(
            codes,
            cell_types,
            drugs,
            cell_type=task.cell_type,
            drug=task.drug,
            control_cell_type=task.control_cell_type,
            n_target=real_rows.size,
            available=available,
            rng=rng,
        )
        entropy_rows = real_rows[:n_entropy]
        entropy = {
            f"delta_h{suffix}": delta_h(
                prediction.codes[:n_entropy],
                codes[entropy_rows],
                mean[entropy_rows],
                logsigma[entropy_rows],
                leave_own_out=leave_own_out,
            )
            for leave_own_out, suffix in [(False, ""), (True, "_leave_own_out")]
        }
        real_x = dense_rows(adata.X, real_rows)
        control_x = dense_rows(adata.X, prediction.control_rows)
        decoder_seeds = rng.integers(0, 2**31 - 1, size=len(decoders))
        metric_seed = int(rng.integers(0, 2**31 - 1))
        score = functools.partial(
            _score,
            de_genes=de_genes.get((task.cell_type, task.drug)),
            settings=settings,
            seed=metric_seed,
        )
        identity = _identity(task, interacting_set) | {"codes": code_mode}
        sizes_and_entropy = {"n_real": real_rows.size, "delta_h_cells": n_entropy, **entropy}
        scored = {
            name: score(control_x, real_x, decode(prediction.codes, int(decoder_seed)))
            for (name, decode), decoder_seed in zip(decoders.items(), decoder_seeds, strict=True)
        }
        scored[FLOOR] = score(control_x, real_x, control_x)
        combination = (task.cell_type, task.drug)
        if combination not in ceilings:
            ceilings[combination] = _real_half(
                control_x, real_x, score, minimum=max(2, settings.rf_folds)
            )
        if ceilings[combination] is not None:
            scored[CEILING] = ceilings[combination]
        for name, (n_predicted, metrics) in scored.items():
            conventions.update({k: entry["convention"] for k, entry in metrics.items()})
            rows.append(
                identity
                | {"decoder": name, "n_predicted": n_predicted}
                | sizes_and_entropy
                | {k: entry["value"] for k, entry in metrics.items()}
            )
        progress.update(index, metrics={"delta_h": entropy["delta_h"]})
    conventions |= _entropy_conventions(code_mode, n_entropy)
    return HeldOutPredictions(pd.DataFrame(rows), conventions)


def _identity(task: PredictionTask, interacting: set[str] | None) -> dict[str, Any]:
    """The columns that name a prediction (and its ground truth on a simulated screen)."""
    row: dict[str, Any] = {
        "condition": task.condition,
        "cell_type": task.cell_type,
        "drug": task.drug,
        "control_cell_type": task.control_cell_type,
        "held_out": task.held_out,
    }
    if interacting is not None:
        row["interacting"] = task.condition in interacting
        row["control_interacting"] = (
            condition_name(task.control_cell_type, task.drug) in interacting
        )
    return row


def _score(
    control_x: np.ndarray,
    real_x: np.ndarray,
    predicted_x: ArrayLike,
    *,
    de_genes: np.ndarray | None,
    settings: PredictionSettings,
    seed: int,
) -> tuple[int, dict[str, Any]]:
    """``(predicted cells, evaluate_prediction(...))`` of one set of cells against the real ones."""
    predicted = np.asarray(predicted_x, np.float64)
    metrics = evaluate_prediction(
        control_x,
        real_x,
        predicted,
        de_genes=de_genes,
        n_pcs=min(settings.n_pcs, real_x.shape[1], 2 * real_x.shape[0]),
        seed=seed,
        n_estimators=settings.rf_trees,
        n_splits=settings.rf_folds,
        n_jobs=settings.n_jobs,
    )
    return predicted.shape[0], metrics


def _real_half(
    control_x: np.ndarray,
    real_x: np.ndarray,
    score: Callable[..., tuple[int, dict[str, Any]]],
    *,
    minimum: int,
) -> tuple[int, dict[str, Any]] | None:
    """The ceiling: one half of a combination's (randomly ordered) real cells against the other.

    ``None`` (with a warning) when a half has fewer than ``minimum`` cells.
    """
    half = real_x.shape[0] // 2
    if half < minimum:
        logger.warning(
            "no real-vs-real ceiling from %d real cells (a half needs %d)", len(real_x), minimum
        )
        return None
    return score(control_x, real_x[:half], real_x[half : 2 * half])


def _capped(n: int, cap: int | None) -> int:
    return n if cap is None else min(n, cap)


def _de_gene_sets(
    x: ArrayLike,
    cell_types: np.ndarray,
    drugs: np.ndarray,
    members: Mapping[tuple[str, str], np.ndarray],
    vehicles: set[str],
    n: int,
) -> dict[tuple[str, str], np.ndarray]:
    """Top DE genes of each treated combination against its cell type's vehicle cells."""
    if n == 0:
        return {}
    genes = {}
    for (cell_type, drug), rows in members.items():
        control = np.flatnonzero((cell_types == cell_type) & np.isin(drugs, list(vehicles)))
        if drug in vehicles or control.size == 0:
            continue
        genes[(cell_type, drug)] = top_de_genes(dense_rows(x, rows), dense_rows(x, control), n=n)
    return genes


def _entropy_conventions(code_mode: CodeMode, n: int) -> dict[str, str]:
    codes = "posterior samples" if code_mode == "sampled" else "posterior means"
    common = (
        f"H(predicted codes) - H(real codes, {codes}) under the mixture of the real cells' "
        f"posteriors, N={n} for every combination, nats"
    )
    return {
        "delta_h": f"{common} (paper estimator)",
        "delta_h_leave_own_out": f"{common}; each real code's own posterior left out",
    }
