"""Statistics of a held-out prediction run (paper Fig. 4a-b): Wilcoxon test, Delta H correlation, truth check.

All functions read the tidy table of :func:`michigan.predict.heldout.predict_heldout` (one row per
prediction and decoder) and pair the decoders of each prediction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from michigan.predict.tasks import PREDICTION_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: the two Delta H columns of a prediction table
ENTROPY_COLUMNS = ("delta_h", "delta_h_leave_own_out")
#: metrics that :func:`paired_predictions` puts side by side, one column per decoder
PAIRED_METRICS = ("rf_error", "edistance")
_TRUTH_COLUMNS = ("interacting", "control_interacting")


def decoder_column(metric: str, decoder: str) -> str:
    """Column of :func:`paired_predictions` holding a decoder's metric: ``<metric>_<decoder>``."""
    return f"{metric}_{decoder}"


def paired_predictions(
    table: pd.DataFrame, *, generator: str = "michigan", representation: str = "btcvae"
) -> pd.DataFrame:
    """One row per prediction with both decoders' RF errors and E-distances side by side.

    Parameters
    ----------
    table
        Prediction table (one row per prediction and decoder).
    generator, representation
        Values of ``table["decoder"]`` of the generator (MichiGAN) and of the representation
        model's decoder (beta-TCVAE).

    Returns
    -------
    pandas.DataFrame
        The prediction columns, ``held_out``, the truth columns when present, the Delta H
        columns, ``<metric>_<decoder>`` for each of :data:`PAIRED_METRICS` and both decoders,
        and ``rf_error_difference`` (generator minus representation, Fig. 4b's y axis).

    Raises
    ------
    KeyError
        If a column is missing or a decoder does not occur in the table.
    """
    needed = [*PREDICTION_COLUMNS, "held_out", "decoder", *PAIRED_METRICS, *ENTROPY_COLUMNS]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        msg = f"prediction table lacks the columns {missing}"
        raise KeyError(msg)
    present = set(table["decoder"])
    for decoder in (generator, representation):
        if decoder not in present:
            msg = (
                f"decoder {decoder!r} is not in the prediction table (decoders: {sorted(present)})"
            )
            raise KeyError(msg)
    identity = [*PREDICTION_COLUMNS, "held_out"]
    identity += [c for c in _TRUTH_COLUMNS if c in table.columns]
    entropy = table.groupby(list(PREDICTION_COLUMNS), sort=False)[list(ENTROPY_COLUMNS)].first()
    by_decoder = table.pivot_table(
        index=list(PREDICTION_COLUMNS), columns="decoder", values=list(PAIRED_METRICS), sort=False
    )
    paired = (
        table[identity]
        .drop_duplicates(list(PREDICTION_COLUMNS))
        .set_index(list(PREDICTION_COLUMNS))
        .join(entropy)
    )
    for metric in PAIRED_METRICS:
        for decoder in (representation, generator):
            paired[decoder_column(metric, decoder)] = by_decoder[(metric, decoder)]
    paired["rf_error_difference"] = (
        paired[decoder_column("rf_error", generator)]
        - paired[decoder_column("rf_error", representation)]
    )
    return paired.reset_index()


def wilcoxon_greater(larger: ArrayLike, smaller: ArrayLike) -> dict[str, Any]:
    """One-sided paired Wilcoxon signed-rank test that ``larger`` exceeds ``smaller``.

    ``scipy.stats.wilcoxon(larger, smaller, alternative="greater")``: zero differences are
    dropped (``zero_method="wilcox"``), the p-value is exact for up to 50 pairs without ties and
    normal-approximated otherwise. The paper tests MichiGAN's RF errors against beta-TCVAE's this way
    (p < 1e-4 on sampled codes, p > 0.05 on means); with n pairs the smallest possible exact
    p-value is ``2**-n`` (1/64 for the six held-out predictions).

    Parameters
    ----------
    larger, smaller
        ``[pairs]`` paired values (MichiGAN's and beta-TCVAE's RF errors).

    Returns
    -------
    dict
        ``n`` (pairs), ``n_nonzero``, ``statistic`` (sum of the ranks of positive
        differences), ``p_value`` (``None`` when every difference is zero), ``median_difference``
        and ``test`` (a description).
    """
    a, b = np.asarray(larger, dtype=float), np.asarray(smaller, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        msg = f"paired values must be two 1-d arrays of one length, got {a.shape} and {b.shape}"
        raise ValueError(msg)
    difference = a - b
    record: dict[str, Any] = {
        "test": "one-sided Wilcoxon signed-rank (scipy.stats.wilcoxon, alternative='greater', "
        "zero differences dropped)",
        "n": int(a.size),
        "n_nonzero": int(np.count_nonzero(difference)),
        "median_difference": float(np.median(difference)) if a.size else None,
        "statistic": None,
        "p_value": None,
    }
    if record["n_nonzero"] > 0:
        result = stats.wilcoxon(a, b, alternative="greater", zero_method="wilcox")
        record["statistic"] = float(result.statistic)
        record["p_value"] = float(result.pvalue)
    return record


def correlations(x: ArrayLike, y: ArrayLike) -> dict[str, Any]:
    """Spearman's rank correlation (headline) and Pearson's r of ``x`` and ``y``, with p-values.

    The paper does not say which correlation Fig. 4b reports; Spearman's needs no linear relation
    between Delta H (nats) and the RF-error difference. Two-sided p-values (scipy.stats).

    Returns
    -------
    dict
        ``n``, ``spearman_rho``, ``spearman_p``, ``pearson_r``, ``pearson_p``; the values are
        ``None`` with fewer than 3 points or a constant input.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    record: dict[str, Any] = {"n": int(a.size)}
    computable = a.size >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0
    for name, function in (("spearman", stats.spearmanr), ("pearson", stats.pearsonr)):
        value, p = function(a, b) if computable else (None, None)
        label = "rho" if name == "spearman" else "r"
        record[f"{name}_{label}"] = None if value is None else float(value)
        record[f"{name}_p"] = None if p is None else float(p)
    return record


def interaction_check(
    paired: pd.DataFrame, *, columns: Sequence[str] = ENTROPY_COLUMNS
) -> dict[str, Any] | None:
    """Check that Delta H ranks the ground-truth interacting combinations above the others.

    Predictions are grouped by the truth of the simulated screen: *interacting* (the predicted
    combination interacts, its control combination does not) against *clean* (neither interacts).
    Predictions from an interacting control are left out: their shift starts from a response that
    differs in the control cell type, so they are wrong for a reason the target does not carry.
    For each column (by default the Delta H estimators) the one-sided Mann-Whitney test
    (interacting greater, ``scipy.stats.mannwhitneyu``) and ``auc = U / (n_interacting *
    n_clean)``, the probability that an interacting prediction has the larger value, are
    recorded. :func:`summarize_predictions` adds the E-distances of the decoded cells, which tell
    whether the interactions show in expression space at all.

    Parameters
    ----------
    paired
        Output of :func:`paired_predictions` with the ``interacting`` and
        ``control_interacting`` columns.
    columns
        Columns of ``paired`` to compare.

    Returns
    -------
    dict or None
        Per column: ``n_interacting``, ``n_clean``, ``median_interacting``,
        ``median_clean``, ``mann_whitney_u``, ``p_value``, ``auc`` and ``interacting_larger``
        (``auc > 0.5``); ``None`` without truth columns, or without predictions in a group.
    """
    if not set(_TRUTH_COLUMNS) <= set(paired.columns):
        return None
    target = paired["interacting"].astype(bool)
    control = paired["control_interacting"].astype(bool)
    interacting, clean = paired[target & ~control], paired[~target & ~control]
    if interacting.empty or clean.empty:
        logger.warning(
            "interaction check skipped: %d interacting and %d clean predictions",
            len(interacting),
            len(clean),
        )
        return None
    record: dict[str, Any] = {
        "groups": "interacting: the predicted combination interacts and its control does not; "
        "clean: neither interacts; predictions from interacting controls left out",
        "test": "one-sided Mann-Whitney U (interacting greater); auc = U / (n_interacting n_clean)",
    }
    for column in columns:
        a, b = interacting[column].to_numpy(float), clean[column].to_numpy(float)
        result = stats.mannwhitneyu(a, b, alternative="greater")
        auc = float(result.statistic) / (a.size * b.size)
        record[column] = {
            "n_interacting": int(a.size),
            "n_clean": int(b.size),
            "median_interacting": float(np.median(a)),
            "median_clean": float(np.median(b)),
            "mann_whitney_u": float(result.statistic),
            "p_value": float(result.pvalue),
            "auc": auc,
            "interacting_larger": auc > 0.5,
        }
    return record


def summarize_predictions(
    table: pd.DataFrame,
    *,
    generator: str = "michigan",
    representation: str = "btcvae",
    conventions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON summary of a prediction run.

    Parameters
    ----------
    table
        Prediction table of one run (one code mode).
    generator, representation
        Decoder names of MichiGAN and of the representation model.
    conventions
        Metric conventions to record (from :class:`~michigan.predict.heldout.HeldOutPredictions`).

    Returns
    -------
    dict
        ``codes``, ``decoders``, ``n_predictions``, ``n_combinations``, ``delta_h_cells``;
        ``held_out_predictions`` (per held-out prediction: Delta H and both RF errors);
        ``wilcoxon`` (:func:`wilcoxon_greater` of the generator's RF errors over the
        representation's, for ``all`` predictions and the ``held_out`` ones);
        ``delta_h_vs_rf_error_difference`` (:func:`correlations` per Delta H estimator, over all
        predictions); ``interaction_check`` (:func:`interaction_check` of both Delta H and both
        decoders' E-distances, when the truth is known);
        ``mean_by_decoder`` (mean of every numeric column per decoder, ``all`` and ``held_out``);
        ``conventions``.
    """
    paired = paired_predictions(table, generator=generator, representation=representation)
    gen, rep = decoder_column("rf_error", generator), decoder_column("rf_error", representation)
    held_out = paired[paired["held_out"].astype(bool)]
    numeric = [
        c
        for c in table.select_dtypes("number").columns
        if c not in ("n_real", "n_predicted", "delta_h_cells")
    ]
    summary = {
        "codes": sorted(set(table["codes"])) if "codes" in table else None,
        "decoders": {"generator": generator, "representation": representation},
        "n_predictions": len(paired),
        "n_combinations": int(paired["condition"].nunique()),
        "delta_h_cells": int(table["delta_h_cells"].iloc[0]) if "delta_h_cells" in table else None,
        "held_out_predictions": held_out[
            ["condition", "control_cell_type", *ENTROPY_COLUMNS, rep, gen]
        ].to_dict(orient="records"),
        "wilcoxon": {
            "all": wilcoxon_greater(paired[gen], paired[rep]),
            "held_out": wilcoxon_greater(held_out[gen], held_out[rep]),
        },
        "delta_h_vs_rf_error_difference": {
            column: correlations(paired[column], paired["rf_error_difference"])
            for column in ENTROPY_COLUMNS
        },
        "interaction_check": interaction_check(
            paired,
            columns=[
                *ENTROPY_COLUMNS,
                *(decoder_column("edistance", d) for d in (representation, generator)),
            ],
        ),
        "mean_by_decoder": {
            scope: rows.groupby("decoder")[numeric].mean().to_dict(orient="index")
            for scope, rows in (("all", table), ("held_out", table[table["held_out"].astype(bool)]))
        },
        "conventions": dict(conventions or {}),
    }
    return _without_nan(summary)


def _without_nan(value: Any) -> Any:
    """NaN (a metric not computable, e.g. DE-gene R^2 of vehicles) as None, so the JSON is strict."""
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def statistics_table(summaries: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The tests of several runs' summaries as one table, for the report.

    Parameters
    ----------
    summaries
        Run label (e.g. ``"heldout/sampled"``) -> summary from :func:`summarize_predictions`.

    Returns
    -------
    pandas.DataFrame
        One row per run and test: ``run``, ``test``, ``n``, ``value``, ``value_is`` (what
        ``value`` means) and ``p_value``: the Wilcoxon tests (value: median RF-error difference,
        generator minus representation), the Delta H correlations (Spearman's rho) and the
        interaction checks (AUC).
    """
    rows = []
    for run, summary in summaries.items():
        generator = summary["decoders"]["generator"]
        representation = summary["decoders"]["representation"]
        for scope, test in summary["wilcoxon"].items():
            rows.append(
                {
                    "run": run,
                    "test": f"Wilcoxon {generator} > {representation} RF error ({scope} predictions)",
                    "n": test["n"],
                    "value": test["median_difference"],
                    "value_is": "median difference",
                    "p_value": test["p_value"],
                }
            )
        for column, test in summary["delta_h_vs_rf_error_difference"].items():
            rows.append(
                {
                    "run": run,
                    "test": f"{column} vs RF-error difference",
                    "n": test["n"],
                    "value": test["spearman_rho"],
                    "value_is": "Spearman rho",
                    "p_value": test["spearman_p"],
                }
            )
        check = summary.get("interaction_check") or {}
        for column, test in check.items():
            if isinstance(test, dict):
                rows.append(
                    {
                        "run": run,
                        "test": f"{column}: interacting > clean combinations (truth)",
                        "n": test["n_interacting"] + test["n_clean"],
                        "value": test["auc"],
                        "value_is": "AUC",
                        "p_value": test["p_value"],
                    }
                )
    return pd.DataFrame(rows, columns=["run", "test", "n", "value", "value_is", "p_value"])
