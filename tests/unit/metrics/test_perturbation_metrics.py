from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import linregress

from michigan.metrics import CPA_MMD_ALPHAS, e_distance, mmd, r2_mean

R2_CASES = [
    # (expected key, kind, stat, candidate, DE genes only)
    ("r2_scgen_mean_all", "scgen", "mean", "pred", False),
    ("r2_cpa_mean_all", "cpa", "mean", "pred", False),
    ("r2_cpa_var_all", "cpa", "var", "pred", False),
    ("r2_scgen_mean_all_control_baseline", "scgen", "mean", "control", False),
    ("r2_scgen_mean_de20", "scgen", "mean", "pred", True),
    ("r2_cpa_mean_de20", "cpa", "mean", "pred", True),
    ("r2_cpa_var_de20", "cpa", "var", "pred", True),
    ("r2_scgen_mean_de20_control_baseline", "scgen", "mean", "control", True),
]


@pytest.mark.parametrize(("key", "kind", "stat", "candidate", "de"), R2_CASES)
def test_r2_matches_scgen_and_cpa(load_case, key, kind, stat, candidate, de):
    case = load_case("C1_perturbation_good")
    genes = case["de_idx"] if de else None
    value = r2_mean(case["real"], case[candidate], kind=kind, stat=stat, genes=genes)
    # deterministic float64 reference: rel 1e-9
    assert value == pytest.approx(case.expected[key], rel=1e-9)


@pytest.mark.parametrize("other", ["pred", "ctrl"])
def test_distances_match_pertpy_and_cpa(load_case, other):
    case = load_case("C1_perturbation_good")
    x = case["emb_real"]
    y = case["emb_pred" if other == "pred" else "emb_control"]
    expected = case.expected
    # deterministic float64 references (pertpy): rel 1e-9
    assert e_distance(x, y) == pytest.approx(
        expected[f"edistance_pertpy120_real_vs_{other}"], rel=1e-9
    )
    assert e_distance(x, y, convention="pertpy_precomputed") == pytest.approx(
        expected[f"edistance_pertpy120_precomputed_real_vs_{other}"], rel=1e-9
    )
    assert e_distance(x, y, convention="pertpy_0.10") == pytest.approx(
        expected[f"edistance_pertpy010_sqeuclidean_real_vs_{other}"], rel=1e-9
    )
    assert mmd(x, y, kernel="linear") == pytest.approx(
        expected[f"mmd_pertpy120_linear_real_vs_{other}"], rel=1e-9
    )
    assert mmd(x, y, kernel="rbf", gamma=0.05) == pytest.approx(
        expected[f"mmd_pertpy120_rbf_gamma0.05_real_vs_{other}"], rel=1e-9
    )
    genes_y = case["pred" if other == "pred" else "control"]
    # CPA computed in float32 torch: rel 1e-4
    assert mmd(case["real"], genes_y) == pytest.approx(
        expected[f"mmd_cpa_multiscale_genes_real_vs_{other}"], rel=1e-4
    )


def test_against_brute_force_loops():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((5, 3)) + 0.5

    def d(a, b):
        return float(np.sqrt(np.sum((a - b) ** 2)))

    between = np.mean([d(a, b) for a in x for b in y])
    within_x = np.mean([d(x[i], x[j]) for i in range(7) for j in range(i + 1, 7)])
    within_y = np.mean([d(y[i], y[j]) for i in range(5) for j in range(i + 1, 5)])
    # independent loops over pairs, float64: agreement to rounding
    assert e_distance(x, y) == pytest.approx(2 * between - within_x - within_y, rel=1e-12)
    gauss = np.mean([np.exp(-0.3 * np.sum((a - b) ** 2)) for a in x for b in y])
    gauss_x = np.mean([np.exp(-0.3 * np.sum((a - b) ** 2)) for a in x for b in x])
    gauss_y = np.mean([np.exp(-0.3 * np.sum((a - b) ** 2)) for a in y for b in y])
    assert mmd(x, y, kernel="rbf", gamma=0.3) == pytest.approx(
        gauss_x + gauss_y - 2 * gauss, rel=1e-12
    )
    slope_r = linregress(y.mean(0), x.mean(0)).rvalue
    assert r2_mean(x, y) == pytest.approx(slope_r**2, rel=1e-12)


def test_extremes():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((40, 6)) + np.arange(6)
    # a prediction equal to the truth: R^2 = 1 under both conventions; distances 0
    assert r2_mean(x, x) == pytest.approx(1.0, abs=1e-12)
    assert r2_mean(x, x, kind="cpa", stat="var") == pytest.approx(1.0, abs=1e-12)
    assert mmd(x, x) == pytest.approx(0.0, abs=1e-12)
    assert e_distance(x, x, convention="pertpy_precomputed") == pytest.approx(0.0, abs=1e-12)
    # the i<j within means exceed the all-pairs between mean for identical sets: slightly < 0
    assert e_distance(x, x) < 0
    # CPA's R^2 penalises an offset that Pearson forgives
    assert r2_mean(x, x + 1.0) == pytest.approx(1.0, abs=1e-12)
    assert r2_mean(x, x + 1.0, kind="cpa") < 0.9


def test_bad_inputs_raise():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((10, 4))
    with pytest.raises(ValueError, match="column counts differ"):
        r2_mean(x, x[:, :3])
    with pytest.raises(ValueError, match="column counts differ"):
        e_distance(x, x[:, :3])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="pred contains 1 non-finite"):
        r2_mean(x, bad)
    with pytest.raises(ValueError, match="y contains"):
        mmd(x, bad)
    with pytest.raises(ValueError, match=r"indices must lie in 0\.\.3"):
        r2_mean(x, x, genes=[0, 4])
    with pytest.raises(ValueError, match="mask has shape"):
        r2_mean(x, x, genes=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="at least two genes"):
        r2_mean(x, x, genes=[1])
    with pytest.raises(ValueError, match="all equal"):
        r2_mean(np.ones((3, 4)), x)
    with pytest.raises(ValueError, match="at least 2 row"):
        e_distance(x[:1], x)
    with pytest.raises(ValueError, match="kernel='energy'"):
        mmd(x, x, kernel="energy")
    with pytest.raises(ValueError, match="gamma must be positive"):
        mmd(x, x, kernel="rbf", gamma=0.0)


def test_multiscale_mmd_is_the_sum_of_rbf_mmds_over_its_bandwidths():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(15, 4)), rng.normal(0.5, 2.0, size=(12, 4))
    rbf = sum(mmd(x, y, kernel="rbf", gamma=1 / (2 * alpha)) for alpha in CPA_MMD_ALPHAS)
    assert mmd(x, y) == pytest.approx(rbf, rel=1e-12)
    assert mmd(x, y) > mmd(x, x[::-1]) == pytest.approx(0.0, abs=1e-12)
