"""Statistics of a held-out prediction run (paper Fig. 4a-b): calibrated tests, verdicts, truth check.

All functions read the tidy table of :func:`michigan.predict.heldout.predict_heldout` (one row per
prediction and decoder or reference) and pair the decoders of each prediction: the paper's
one-sided Wilcoxon test and its variants (metrics, noise arms, scopes) with the floor and ceiling
references and a verdict (:mod:`michigan.predict.verdict`), the one-sided test of the Delta H
hypothesis, the ground-truth check, and the combination over seeds (docs/prediction.md).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from michigan.predict.tasks import CEILING, FLOOR, PREDICTION_COLUMNS
from michigan.predict.verdict import GATES, Gates, judge, paper_expects_significance

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: the two Delta H columns of a prediction table
ENTROPY_COLUMNS = ("delta_h", "delta_h_leave_own_out")
#: metrics that :func:`paired_predictions` puts side by side, one column per decoder, and whether
#: a larger value means cells more like the real ones
PAIRED_METRICS = {"rf_error": True, "edistance": False, "mmd": False}
#: the tested scopes: every prediction (the paper's Fig. 4a) and the held-out combinations only
SCOPES = ("all", "held_out")
#: the paper's hypothesis on Delta H (section 3.6): the lower Delta H (the better the latent
#: arithmetic), the larger MichiGAN's advantage, i.e. a negative correlation with the RF-error
#: difference MichiGAN minus beta-TCVAE
DELTA_H_ALTERNATIVE = "less"
_TRUTH_COLUMNS = ("interacting", "control_interacting")


def decoder_column(metric: str, decoder: str) -> str:
    """Column of :func:`paired_predictions` holding a decoder's metric: ``<metric>_<decoder>``."""
    return f"{metric}_{decoder}"


def paired_predictions(
    table: pd.DataFrame, *, generator: str = "michigan", representation: str = "btcvae"
) -> pd.DataFrame:
    """One row per prediction with every decoder's (and reference's) metrics side by side.

    Parameters
    ----------
    table
        Prediction table (one row per prediction and decoder or reference).
    generator, representation
        Values of ``table["decoder"]`` of the generator (MichiGAN) and of the representation
        model's decoder (beta-TCVAE, the paper's noise arm).

    Returns
    -------
    pandas.DataFrame
        The prediction columns, ``held_out``, the truth columns when present, the Delta H
        columns, ``<metric>_<decoder>`` for each of :data:`PAIRED_METRICS` in the table and every
        decoder, and ``rf_error_difference`` (generator minus representation, Fig. 4b's y axis).

    Raises
    ------
    KeyError
        If a column is missing or a decoder does not occur in the table.
    """
    needed = [*PREDICTION_COLUMNS, "held_out", "decoder", "rf_error", *ENTROPY_COLUMNS]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        msg = f"prediction table lacks the columns {missing}"
        raise KeyError(msg)
    present = list(dict.fromkeys(table["decoder"]))
    for decoder in (generator, representation):
        if decoder not in present:
            msg = (
                f"decoder {decoder!r} is not in the prediction table (decoders: {sorted(present)})"
            )
            raise KeyError(msg)
    metrics = [m for m in PAIRED_METRICS if m in table.columns]
    identity = [*PREDICTION_COLUMNS, "held_out"]
    identity += [c for c in _TRUTH_COLUMNS if c in table.columns]
    entropy = table.groupby(list(PREDICTION_COLUMNS), sort=False)[list(ENTROPY_COLUMNS)].first()
    by_decoder = table.pivot_table(
        index=list(PREDICTION_COLUMNS),
        columns="decoder",
        values=metrics,
        sort=False,
        dropna=False,
    )
    paired = (
        table[identity]
        .drop_duplicates(list(PREDICTION_COLUMNS))
        .set_index(list(PREDICTION_COLUMNS))
        .join(entropy)
    )
    order = [
        representation,
        generator,
        *(d for d in present if d not in (representation, generator)),
    ]
    for metric in metrics:
        for decoder in order:
            paired[decoder_column(metric, decoder)] = by_decoder[(metric, decoder)]
    paired["rf_error_difference"] = (
        paired[decoder_column("rf_error", generator)]
        - paired[decoder_column("rf_error", representation)]
    )
    return paired.reset_index()


def representation_arms(decoders: Sequence[str], representation: str) -> list[str]:
    """The representation's noise arms among ``decoders``: its own name first, then ``<name>_*``."""
    return [representation, *sorted(d for d in decoders if d.startswith(f"{representation}_"))]


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


def delta_h_hypothesis(
    delta_h: ArrayLike, rf_error_difference: ArrayLike, *, gates: Gates = GATES, **gate_values: Any
) -> dict[str, Any]:
    """One-sided Spearman test of the paper's hypothesis on Delta H, with its verdict.

    The paper (section 3.6) reads Fig. 4b as: where latent arithmetic works (low Delta H),
    MichiGAN's predictions gain most over the beta-TCVAE decoder's, i.e. Delta H correlates
    *negatively* with the RF-error difference MichiGAN minus beta-TCVAE. The test is
    ``scipy.stats.spearmanr(..., alternative="less")``.

    Parameters
    ----------
    delta_h, rf_error_difference
        ``[predictions]`` paired values.
    gates
        Verdict thresholds.
    **gate_values
        ``rf_medians`` and ``trained_on_rf_error`` for :func:`~michigan.predict.verdict.judge`
        (the RF-error difference is noise when the errors sit at the floor).

    Returns
    -------
    dict
        ``n``, ``hypothesis``, ``spearman_rho``, ``sign`` (``negative``, ``positive``, ``zero``
        or ``None``), ``p_value`` (one-sided), ``verdict`` and ``reason``.
    """
    a, b = np.asarray(delta_h, dtype=float), np.asarray(rf_error_difference, dtype=float)
    record: dict[str, Any] = {
        "n": int(a.size),
        "hypothesis": "Spearman rho < 0: the lower Delta H, the larger MichiGAN's RF-error gain "
        "(paper section 3.6); scipy.stats.spearmanr, alternative='less'",
        "spearman_rho": None,
        "sign": None,
        "p_value": None,
    }
    if a.size >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
        result = stats.spearmanr(a, b, alternative=DELTA_H_ALTERNATIVE)
        rho = float(result.statistic)
        record |= {
            "spearman_rho": rho,
            "sign": "negative" if rho < 0 else ("positive" if rho > 0 else "zero"),
            "p_value": float(result.pvalue),
        }
    return record | judge(
        n=record["n"],
        n_nonzero=record["n"],
        p_value=record["p_value"],
        expect_significant=True,
        gates=gates,
        **gate_values,
    )


def comparison_tests(
    paired: pd.DataFrame,
    *,
    code_mode: str,
    generator: str = "michigan",
    representation: str = "btcvae",
    gates: Gates = GATES,
) -> list[dict[str, Any]]:
    """The paper's Wilcoxon test and its calibrated variants, each with a verdict.

    For every metric of :data:`PAIRED_METRICS` in ``paired``, every noise arm of the
    representation (:func:`representation_arms`) and every scope of :data:`SCOPES`, the one-sided
    paired Wilcoxon test that MichiGAN's predictions are more like the real cells (larger RF
    error; smaller E-distance and MMD), with the medians of both arms and of the references
    (floor: unshifted control cells; ceiling: real vs real) over the same predictions, and
    :func:`~michigan.predict.verdict.judge`'s verdict against the paper's outcome for
    ``code_mode``.

    Parameters
    ----------
    paired
        Output of :func:`paired_predictions`.
    code_mode
        ``"sampled"`` (the paper: significant) or ``"mean"`` (the paper: not significant).
    generator, representation
        Decoder names of MichiGAN and of the representation model.
    gates
        Verdict thresholds.

    Returns
    -------
    list of dict
        Per test: ``metric``, ``arm``, ``scope``, ``alternative``, the fields of
        :func:`wilcoxon_greater`, ``median_generator``, ``median_arm``, ``median_floor``,
        ``median_ceiling``, ``trained_on_rf_error``, ``expected``, ``verdict``, ``reason``.
    """
    expect = paper_expects_significance(code_mode)
    decoders = {
        c.removeprefix("rf_error_")
        for c in paired.columns
        if c.startswith("rf_error_") and c != "rf_error_difference"
    }
    arms = [a for a in representation_arms(sorted(decoders), representation) if a in decoders]
    trained = paired[~paired["held_out"].astype(bool)]
    trained_on = _median(trained[decoder_column("rf_error", generator)]) if len(trained) else None
    tests = []
    for metric, larger_is_better in PAIRED_METRICS.items():
        if decoder_column(metric, generator) not in paired.columns:
            continue
        for arm, scope in itertools.product(arms, SCOPES):
            rows = paired if scope == "all" else paired[paired["held_out"].astype(bool)]
            ours, theirs = (
                rows[decoder_column(metric, generator)],
                rows[decoder_column(metric, arm)],
            )
            better, worse = (ours, theirs) if larger_is_better else (theirs, ours)
            test = wilcoxon_greater(better, worse)
            medians = {
                f"median_{role}": _median(rows.get(decoder_column(metric, name)))
                for role, name in (
                    ("generator", generator),
                    ("arm", arm),
                    ("floor", FLOOR),
                    ("ceiling", CEILING),
                )
            }
            is_rf = metric == "rf_error"
            verdict = judge(
                n=test["n"],
                n_nonzero=test["n_nonzero"],
                p_value=test["p_value"],
                expect_significant=expect,
                rf_medians={generator: medians["median_generator"], arm: medians["median_arm"]}
                if is_rf
                else None,
                trained_on_rf_error=trained_on,
                gates=gates,
            )
            tests.append(
                {
                    "metric": metric,
                    "arm": arm,
                    "scope": scope,
                    "alternative": f"{generator} {'>' if larger_is_better else '<'} {arm}",
                    **test,
                    **medians,
                    "trained_on_rf_error": trained_on,
                    "expected": "significant" if expect else "not significant",
                    **verdict,
                }
            )
    return tests


def _median(values: pd.Series | None) -> float | None:
    """Median ignoring NaN; ``None`` for no values."""
    if values is None:
        return None
    finite = values.dropna().to_numpy(float)
    return float(np.median(finite)) if finite.size else None


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
    gates: Gates = GATES,
) -> dict[str, Any]:
    """The JSON summary of a prediction run.

    Parameters
    ----------
    table
        Prediction table of one run (one code mode).
    generator, representation
        Decoder names of MichiGAN and of the representation model (its paper noise arm).
    conventions
        Metric conventions to record (from :class:`~michigan.predict.heldout.HeldOutPredictions`).
    gates
        Verdict thresholds (:class:`~michigan.predict.verdict.Gates`).

    Returns
    -------
    dict
        ``codes``, ``decoders``, ``n_predictions``, ``n_combinations``, ``delta_h_cells``;
        ``held_out_predictions`` (per held-out prediction: Delta H and both RF errors);
        ``verdict`` (the paper's test: RF error, paper noise arm, all predictions);
        ``tests`` (:func:`comparison_tests`); ``wilcoxon`` (the paper's test's numbers for
        ``all`` predictions and the ``held_out`` ones); ``delta_h_hypothesis``
        (:func:`delta_h_hypothesis` per Delta H estimator); ``delta_h_vs_rf_error_difference``
        (two-sided :func:`correlations`); ``interaction_check`` (:func:`interaction_check` of
        both Delta H and both decoders' E-distances, when the truth is known);
        ``mean_by_decoder`` (mean of every numeric column per decoder or reference, ``all`` and
        ``held_out``); ``gates``; ``conventions``.

    Raises
    ------
    ValueError
        If the table mixes code modes.
    """
    modes = sorted(set(table["codes"])) if "codes" in table else []
    if len(modes) != 1:
        msg = f"a prediction table summarised at once must hold one code mode, got {modes}"
        raise ValueError(msg)
    paired = paired_predictions(table, generator=generator, representation=representation)
    gen, rep = decoder_column("rf_error", generator), decoder_column("rf_error", representation)
    held_out = paired[paired["held_out"].astype(bool)]
    numeric = [
        c
        for c in table.select_dtypes("number").columns
        if c not in ("n_real", "n_predicted", "delta_h_cells")
    ]
    tests = comparison_tests(
        paired, code_mode=modes[0], generator=generator, representation=representation, gates=gates
    )
    paper_test = {(t["metric"], t["arm"], t["scope"]): t for t in tests}
    headline = paper_test[("rf_error", representation, "all")]
    gate_values = {
        "rf_medians": {
            generator: headline["median_generator"],
            representation: headline["median_arm"],
        },
        "trained_on_rf_error": headline["trained_on_rf_error"],
    }
    summary = {
        "codes": modes,
        "decoders": {"generator": generator, "representation": representation},
        "n_predictions": len(paired),
        "n_combinations": int(paired["condition"].nunique()),
        "delta_h_cells": int(table["delta_h_cells"].iloc[0]) if "delta_h_cells" in table else None,
        "held_out_predictions": held_out[
            ["condition", "control_cell_type", *ENTROPY_COLUMNS, rep, gen]
        ].to_dict(orient="records"),
        "verdict": {k: headline[k] for k in ("verdict", "reason", "p_value", "expected")},
        "tests": tests,
        "wilcoxon": {
            scope: {k: paper_test[("rf_error", representation, scope)][k] for k in _WILCOXON_KEYS}
            for scope in SCOPES
        },
        "delta_h_hypothesis": {
            column: delta_h_hypothesis(
                paired[column], paired["rf_error_difference"], gates=gates, **gate_values
            )
            for column in ENTROPY_COLUMNS
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
        "gates": dataclasses.asdict(gates),
        "conventions": dict(conventions or {}),
    }
    return _without_nan(summary)


def average_over_seeds(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per prediction and decoder, the mean of every metric over the tables of several seeds.

    The predictions of one seed share one trained model, so they are not independent replicates
    of the seed-to-seed variation; pooling every seed's pairs into one test would count each
    prediction once per seed. Averaging a prediction's metrics over seeds first keeps one pair per
    prediction, as in a single run, with the model noise averaged out (docs/prediction.md, "Seeds").

    Parameters
    ----------
    tables
        Prediction tables of one code mode, one per seed, predicting the same tasks (same split).

    Returns
    -------
    pandas.DataFrame
        One row per prediction and decoder, in the first table's order, with the mean of every
        numeric column over the tables.

    Raises
    ------
    ValueError
        If no table is given or the tables predict different tasks.
    """
    if not tables:
        msg = "give at least one prediction table"
        raise ValueError(msg)
    keys = [*PREDICTION_COLUMNS, "decoder"]
    first = tables[0]
    for index, table in enumerate(tables[1:], start=1):
        if set(map(tuple, table[keys].to_numpy())) != set(map(tuple, first[keys].to_numpy())):
            msg = f"prediction table {index} predicts other tasks than table 0 (another split?)"
            raise ValueError(msg)
    stacked = pd.concat(tables, ignore_index=True)
    numeric = [c for c in stacked.select_dtypes("number").columns if c not in (*keys, "held_out")]
    means = stacked.groupby(keys, sort=False)[numeric].mean()
    averaged = first.drop(columns=numeric).join(means, on=keys)
    return averaged[first.columns]


_WILCOXON_KEYS = ("test", "n", "n_nonzero", "median_difference", "statistic", "p_value")


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


#: columns of :func:`statistics_table`
STATISTICS_COLUMNS = (
    "run",
    "test",
    "n",
    "value",
    "value_is",
    "p_value",
    "median_generator",
    "median_arm",
    "median_floor",
    "median_ceiling",
    "verdict",
    "reason",
)


#: the fields of a :func:`comparison_tests` record that :func:`statistics_table` copies
_TEST_FIELDS = (
    "n",
    "p_value",
    "median_generator",
    "median_arm",
    "median_floor",
    "median_ceiling",
    "verdict",
    "reason",
)


def statistics_table(summaries: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The tests of several runs' summaries as one table, for the report.

    Parameters
    ----------
    summaries
        Run label (e.g. ``"heldout/sampled"``) -> summary from :func:`summarize_predictions`.

    Returns
    -------
    pandas.DataFrame
        One row per run and test (:data:`STATISTICS_COLUMNS`): the Wilcoxon tests of
        :func:`comparison_tests` (value: median difference, generator minus arm; the medians of
        both arms and of the floor and ceiling references; verdict and reason), the one-sided
        Delta H hypothesis tests (Spearman's rho; verdict) and the interaction checks (AUC; no
        verdict: not a claim of the paper).
    """
    rows = []
    for run, summary in summaries.items():
        generator = summary["decoders"]["generator"]
        for test in summary["tests"]:
            scope = "all predictions" if test["scope"] == "all" else "held-out predictions"
            rows.append(
                {
                    "run": run,
                    "test": f"Wilcoxon {test['metric']}: {test['alternative']} ({scope})",
                    "value": test["median_difference"],
                    "value_is": f"median difference, {generator} minus arm",
                    **{k: test[k] for k in _TEST_FIELDS},
                }
            )
        for column, test in summary["delta_h_hypothesis"].items():
            rows.append(
                {
                    "run": run,
                    "test": f"{column} vs RF-error difference, one-sided (rho < 0)",
                    "value": test["spearman_rho"],
                    "value_is": "Spearman rho",
                    **{k: test[k] for k in ("n", "p_value", "verdict", "reason")},
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
    return pd.DataFrame(rows, columns=list(STATISTICS_COLUMNS))


def seed_verdicts(
    tables: Mapping[str, Mapping[int, pd.DataFrame]],
    *,
    generator: str = "michigan",
    representation: str = "btcvae",
    gates: Gates = GATES,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The tests of every seed of each code mode and of their seed average.

    Parameters
    ----------
    tables
        Code mode -> seed -> prediction table of the heldout run.
    generator, representation
        Decoder names.
    gates
        Verdict thresholds.

    Returns
    -------
    tuple
        :func:`statistics_table` with runs ``<codes>/seed<s>`` and ``<codes>/combined``
        (:func:`average_over_seeds`), and code mode -> the combined run's summary.
    """
    summaries, combined = {}, {}
    for mode, by_seed in tables.items():
        options = {"generator": generator, "representation": representation, "gates": gates}
        for seed, table in sorted(by_seed.items()):
            summaries[f"{mode}/seed{seed}"] = summarize_predictions(table, **options)
        average = average_over_seeds([by_seed[s] for s in sorted(by_seed)])
        combined[mode] = summarize_predictions(average, **options) | {"seeds": sorted(by_seed)}
        summaries[f"{mode}/combined"] = combined[mode]
    return statistics_table(summaries), combined


def seed_average_tests(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a :func:`seed_verdicts` table judging the seed average of all predictions."""
    return table[
        table["run"].str.endswith("/combined")
        & table["verdict"].notna()
        & ~table["test"].str.contains("held-out predictions")
    ]
