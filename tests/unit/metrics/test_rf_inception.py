from __future__ import annotations

import numpy as np
import pytest

from michigan.metrics import inception_score, rf_error, rf_inception_score

SHAPES = ("uniform", "onehot_balanced", "dirichlet")


# slow tier: fits 1000-tree forests five times per case
@pytest.mark.slow
@pytest.mark.parametrize(
    ("pca_fit", "key"),
    [("real", "rf_error_michigan"), ("pooled", "rf_error_michigan_pooled_pca")],
)
def test_rf_error_matches_michigan(load_case, pca_fit, key):
    case = load_case("B1_generation_realistic")
    result = rf_error(
        case["real"],
        case["fake"],
        pca_fit=pca_fit,
        permutation=case["rf_permutation"],
        seed=42,
        n_jobs=2,
    )
    # exact with scikit-learn 1.9.1 and the stored permutation (README); 1e-12 for rounding
    assert result.error == pytest.approx(case.expected[key], abs=1e-12)
    folds = "rf_error_fold_errors" if pca_fit == "real" else "rf_error_pooled_pca_fold_errors"
    np.testing.assert_allclose(result.fold_errors, case.intermediates[folds], atol=1e-12)
    assert 0.0 <= result.auc <= 1.0


def test_rf_inception_score_matches_michigan(load_case):
    case = load_case("B1_generation_realistic")
    score = rf_inception_score(case["real"], case["real_cell_type"], case["fake"], n_jobs=2)
    # exact with scikit-learn 1.9.1 (README); all 300 real cells train the forest, in order
    assert score.mean == pytest.approx(case.expected["inception_score_michigan_mean"], rel=1e-9)
    assert score.std == pytest.approx(case.expected["inception_score_michigan_std"], rel=1e-9)
    assert np.isnan(score.real_mean)  # no real cell left out


def test_inception_score_on_recorded_probabilities(load_case):
    case = load_case("B1_generation_realistic")
    probs = case["rf_class_probabilities_fake"]
    assert inception_score(probs)[0] == pytest.approx(
        case.expected["inception_score_michigan_mean"], rel=1e-9
    )
    assert inception_score(probs, splits=10, convention="standard")[0] == pytest.approx(
        case.expected["inception_score_standard_splits10_own"], rel=1e-9
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_inception_formula(load_case, shape):
    case = load_case("B3_inception_formula")
    probs = case[f"probs_{shape}"]
    mean, std = inception_score(probs)
    # deterministic float64 reference (preds2score): rel 1e-9; std ~0 needs an absolute bound
    assert mean == pytest.approx(case.expected[f"preds2score_{shape}_mean"], rel=1e-9)
    assert std == pytest.approx(case.expected[f"preds2score_{shape}_std"], rel=1e-9, abs=1e-12)
    assert inception_score(probs, splits=1)[0] == pytest.approx(
        case.expected[f"preds2score_{shape}_splits1"], rel=1e-9
    )
    assert inception_score(probs, splits=10, convention="standard")[0] == pytest.approx(
        case.expected[f"standard_is_{shape}_splits10_own"], rel=1e-9
    )


def test_class_never_predicted_stays_finite():
    # one-hot rows that never name class 2: the original divides by p(y=2) = 0 -> inf
    probs = np.repeat(np.eye(3)[:2], 30, axis=0)
    mean, _ = inception_score(probs)
    assert np.isfinite(mean)
    # two equally used classes, each row certain: IS = 2 up to the eps shift (1e-6 relative)
    assert mean == pytest.approx(2.0, rel=1e-4)


def test_rf_error_extremes_with_few_trees():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((100, 20))
    fake = rng.standard_normal((100, 20)) + 3.0
    result = rf_error(real, fake, n_pcs=5, n_estimators=20)
    # clusters 3 sd apart on every gene are separated perfectly
    assert result.error == 0.0
    assert result.auc == 1.0
    assert result.fold_errors.shape == (5,)


def test_heldout_ceiling_uses_unseen_real_cells():
    rng = np.random.default_rng(1)
    labels = np.tile([0, 1, 2], 40)
    # each type shifted by 6 sd on every gene, in its own direction: trivially separable
    centres = 6.0 * rng.choice([-1.0, 1.0], (3, 10))
    real = centres[labels] + rng.standard_normal((120, 10))
    fake = centres[labels[:60]] + rng.standard_normal((60, 10))
    score = rf_inception_score(real, labels, fake, n_train=60, n_estimators=30, seed=0)
    # IS <= 3 classes; confident predictions (a few trees split on noise genes: ~0.98 mean
    # top probability) of nearly balanced sets keep it well above 2.3 (held-out real: 2.65)
    assert 2.3 < score.real_mean <= 3.0
    assert 2.3 < score.mean <= 3.0


def test_bad_inputs_raise():
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((20, 6)), rng.standard_normal((20, 6))
    with pytest.raises(ValueError, match="row counts differ"):
        rf_error(real, fake[:-1], n_pcs=3)
    with pytest.raises(ValueError, match="column counts differ"):
        rf_error(real, fake[:, :5], n_pcs=3)
    with pytest.raises(ValueError, match="n_splits=30"):
        rf_error(real, fake, n_pcs=3, n_splits=30)
    with pytest.raises(ValueError, match="n_pcs=50"):
        rf_error(real, fake)
    with pytest.raises(ValueError, match="pca_fit='fake'"):
        rf_error(real, fake, pca_fit="fake")
    with pytest.raises(ValueError, match="permutation must be"):
        rf_error(real, fake, n_pcs=3, permutation=np.zeros(40, dtype=int))
    bad = real.copy()
    bad[2, 2] = np.nan
    with pytest.raises(ValueError, match="real contains 1 non-finite"):
        rf_error(bad, fake, n_pcs=3)
    probs = np.full((9, 3), 1 / 3)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(probs * 0.9)
    with pytest.raises(ValueError, match="negative"):
        inception_score(np.array([[1.5, -0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="splits=10"):
        inception_score(probs, splits=10)
    nan_probs = probs.copy()
    nan_probs[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        inception_score(nan_probs)
    with pytest.raises(ValueError, match="single class"):
        rf_inception_score(real, np.zeros(20), fake)
