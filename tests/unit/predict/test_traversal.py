"""Latent traversal arithmetic: populations, ranges, traversed codes, WGAN starts and gene summaries."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from michigan.predict import traversal as tr


@pytest.fixture
def obs():
    return pd.DataFrame(
        {
            "path": pd.Categorical(["Path1", "Path1", "Path2", "Path1", "Path2", "Path1"]),
            "step": np.array([1, 4, 2, 9, 5, 3], dtype=np.int64),
            "cell_type": ["fibroblast", "endothelial", "fibroblast", "fibroblast", "b", "b"],
        }
    )


# --------------------------------------------------------------------------------------------------
# population


def test_population_keeps_the_cells_that_meet_every_condition(obs):
    mask = tr.select_population(obs, {"path": ["Path1"], "step": {"max": 4}})
    np.testing.assert_array_equal(mask, [True, True, False, False, False, True])
    # bounds are inclusive, values are matched as text (an integer column against YAML strings)
    np.testing.assert_array_equal(
        tr.select_population(obs, {"step": {"min": 3, "max": 5}}), [0, 1, 0, 0, 1, 1]
    )
    np.testing.assert_array_equal(tr.select_population(obs, {"step": ["2", 9]}), [0, 0, 1, 1, 0, 0])
    assert tr.select_population(obs, {}).all()


@pytest.mark.parametrize(
    ("selection", "error", "match"),
    [
        ({"tissue": ["Heart"]}, KeyError, "'tissue' is not in obs"),
        ({"cell_type": ["neuron"]}, ValueError, "no cell matches"),
        ({"cell_type": {"min": 1}}, ValueError, "not numeric"),
        ({"step": {"low": 1}}, ValueError, "'min' and/or 'max'"),
        ({"step": {}}, ValueError, "'min' and/or 'max'"),
    ],
)
def test_bad_population_selections_name_the_column(obs, selection, error, match):
    with pytest.raises(error, match=match):
        tr.select_population(obs, selection)


def test_population_rows_subsample_is_seeded_sorted_and_within_the_population(obs):
    selection = {"path": ["Path1"]}
    rows = tr.population_rows(obs, selection, max_cells=2, seed=3)
    assert rows.size == 2
    assert np.all(np.diff(rows) > 0)
    assert set(rows) <= {0, 1, 3, 5}
    np.testing.assert_array_equal(rows, tr.population_rows(obs, selection, max_cells=2, seed=3))
    np.testing.assert_array_equal(
        tr.population_rows(obs, selection, max_cells=10, seed=3), [0, 1, 3, 5]
    )
    with pytest.raises(ValueError, match="max_cells must be positive"):
        tr.population_rows(obs, selection, max_cells=0, seed=3)


# --------------------------------------------------------------------------------------------------
# range and traversed codes


def test_traversal_values_span_the_quantile_range_of_each_dimension():
    reference = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 5.0, 0.1]
    values = tr.traversal_values(reference, [2, 0], quantiles=(0.1, 0.9), n_steps=5)
    assert values.shape == (2, 5)
    for row, dim in zip(values, [2, 0], strict=True):
        low, high = np.quantile(reference[:, dim].astype(np.float32), [0.1, 0.9])
        # float32 codes: the quantiles agree to float32 rounding
        np.testing.assert_allclose(row, np.linspace(low, high, 5), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dims": [3]}, r"within \[0, 3\)"),
        ({"dims": []}, "non-empty"),
        ({"quantiles": (0.9, 0.1)}, "low < high"),
        ({"quantiles": (-0.1, 0.5)}, "0 <= low"),
        ({"n_steps": 1}, "at least 2 steps"),
    ],
)
def test_bad_traversal_ranges_are_rejected(kwargs, match):
    arguments = {"dims": [0], "quantiles": (0.05, 0.95), "n_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        tr.traversal_values(np.zeros((4, 3)), **arguments)


def test_non_finite_codes_are_rejected():
    with pytest.raises(ValueError, match="reference contains 8 non-finite"):
        tr.traversal_values(np.full((4, 2), np.nan), [0], quantiles=(0.1, 0.9), n_steps=3)


def test_set_dimension_changes_one_column_and_keeps_the_others():
    start = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = tr.set_dimension(start, 1, [-2.0, 0.5, 7.0])
    assert out.shape == (3, 4, 3)
    expected = np.repeat(start[None], 3, axis=0)
    expected[:, :, 1] = np.array([-2.0, 0.5, 7.0])[:, None]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(start[:, 1], [1, 4, 7, 10])  # the input is not modified


# --------------------------------------------------------------------------------------------------
# unconditional start


def test_nearest_candidates_agree_with_brute_force():
    rng = np.random.default_rng(1)
    candidates, targets = rng.normal(size=(50, 4)), rng.normal(size=(9, 4))
    distances = ((targets[:, None, :] - candidates[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(
        tr.nearest_candidates(candidates, targets), distances.argmin(axis=1)
    )
    with pytest.raises(ValueError, match="same number of columns"):
        tr.nearest_candidates(candidates, targets[:, :3])


def test_unconditional_start_picks_the_draws_whose_cells_are_nearest_the_targets():
    weights = np.random.default_rng(2).normal(size=(3, 6)).astype(np.float32)

    def generate(codes, seed):  # a noiseless linear "generator"
        return codes @ weights

    targets = np.random.default_rng(3).normal(size=(7, 3)).astype(np.float32) @ weights
    start, candidates = tr.unconditional_start(
        generate, code_dim=3, targets=targets, project=lambda x: x, n_candidates=400, seed=0
    )
    assert candidates.shape == (400, 3)
    assert start.shape == (7, 3)
    cells = candidates @ weights
    nearest = ((targets[:, None] - cells[None]) ** 2).sum(-1).argmin(axis=1)
    np.testing.assert_array_equal(start, candidates[nearest])
    # the candidates are standard-normal draws
    assert abs(candidates.mean()) < 0.15  # 1200 draws: 4.2 standard errors
    assert abs(candidates.std() - 1) < 0.1
    with pytest.raises(ValueError, match="n_candidates must be positive"):
        tr.unconditional_start(
            generate, code_dim=3, targets=targets, project=lambda x: x, n_candidates=0, seed=0
        )


# --------------------------------------------------------------------------------------------------
# gene summaries and the whole traversal


def test_top_varying_genes_are_ordered_by_range_with_ties_to_the_lower_index():
    means = np.array([[0.0, 5.0, 1.0, 0.0], [3.0, 5.0, -1.0, 3.0], [1.0, 5.0, 0.0, 0.0]])
    # ranges 3, 0, 2, 3
    np.testing.assert_array_equal(tr.top_varying_genes(means, 3), [0, 3, 2])
    np.testing.assert_array_equal(tr.top_varying_genes(means, 10), [0, 3, 2, 1])
    with pytest.raises(ValueError, match=r"\[steps, genes\]"):
        tr.top_varying_genes(means[0], 2)
    with pytest.raises(ValueError, match="n_top must be positive"):
        tr.top_varying_genes(means, 0)


def linear_source(name, weights, start, reference, noise_scale=0.5):
    """A source whose cells are ``codes @ weights`` plus noise fixed by the seed."""

    def generate(codes, seed):
        noise = np.random.default_rng(seed).normal(size=(codes.shape[0], weights.shape[1]))
        return codes @ weights + noise_scale * noise

    return tr.TraversalSource(name, generate, start, reference)


def test_traverse_reports_the_exact_change_of_a_linear_generator():
    rng = np.random.default_rng(4)
    weights = rng.normal(size=(3, 8)).astype(np.float32)
    start = rng.normal(size=(20, 3)).astype(np.float32)
    reference = rng.normal(size=(200, 3)).astype(np.float32)
    genes = [f"g{i}" for i in range(8)]
    result = tr.traverse(
        [linear_source("lin", weights, start, reference)],
        dims=[0, 2],
        quantiles=(0.1, 0.9),
        n_steps=4,
        top_genes=3,
        gene_names=genes,
        project=lambda x: x[:, :2],
        seed=7,
    )
    assert list(result.genes.columns) == list(tr.GENE_COLUMNS)
    assert len(result.genes) == 2 * 4 * 3
    assert len(result.cells) == 2 * 4 * 20
    assert result.projections.shape == (2 * 4 * 20, 2)
    for dim in (0, 2):
        values = tr.traversal_values(reference, [dim], quantiles=(0.1, 0.9), n_steps=4)[0]
        # the same noise at every step and in the baseline: the change of the mean is exactly
        # (v_s - mean start_d) * W[d, g]; the top genes are those with the largest |W[d, g]|
        top = np.argsort(-np.abs(weights[dim]), kind="stable")[:3]
        rows = result.genes[result.genes["dim"] == dim]
        assert rows["gene"].iloc[:3].tolist() == [genes[g] for g in top]
        expected = (values[:, None] - start[:, dim].mean()) * weights[dim, top][None, :]
        # float32 generation of values of order 1: agreement to 1e-5
        np.testing.assert_allclose(rows["change"].to_numpy().reshape(4, 3), expected, atol=1e-5)
        np.testing.assert_allclose(rows["value"].to_numpy()[::3], values, rtol=1e-6)
        assert rows["rank"].tolist() == [1, 2, 3] * 4


def test_traverse_names_a_source_that_generates_the_wrong_genes():
    weights = np.ones((2, 5), dtype=np.float32)
    source = linear_source("short", weights, np.zeros((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="short generates 5 genes, expected 6"):
        tr.traverse(
            [source],
            dims=[0],
            quantiles=(0.0, 1.0),
            n_steps=2,
            top_genes=2,
            gene_names=list("abcdef"),
            project=lambda x: x,
            seed=0,
        )


# --------------------------------------------------------------------------------------------------
# sources built from trained models (stand-ins with the same interface)


class StubGenerator:
    """The surface of :class:`michigan.train.TrainedGenerator` that the sources use."""

    def __init__(self, model, *, conditional, code_dim, codes=None):
        self.model, self.conditional, self.code_dim = model, conditional, code_dim
        self.info = {"codes": codes}
        self.calls = []

    def generate(self, *, seed, codes=None, n_cells=None):
        self.calls.append(seed)
        return types.SimpleNamespace(x=np.asarray(codes, dtype=np.float32) * 2.0)


class StubRepresentation:
    model = "btcvae"

    def __init__(self):
        self.seeds = []

    def decode(self, z, *, seed):
        self.seeds.append(seed)
        return np.asarray(z, dtype=np.float32) + 1.0


def test_sources_are_named_after_their_model_and_generate_through_it():
    codes = np.ones((4, 2))
    decoder = StubRepresentation()
    quiet = tr.decoder_source(decoder, start=codes, reference=codes, noise=False)
    noisy = tr.decoder_source(decoder, start=codes, reference=codes, noise=True)
    assert quiet.name == "btcvae_decoder"
    np.testing.assert_array_equal(quiet.generate(codes, 5), codes + 1)
    noisy.generate(codes, 5)
    assert decoder.seeds == [None, 5]  # the decoder mean without noise, the seed's noise with it

    michigan = StubGenerator("michigan", conditional=True, code_dim=2, codes="mean")
    conditional = tr.conditional_source(michigan, start=codes, reference=codes)
    assert conditional.name == "michigan_mean"
    np.testing.assert_array_equal(conditional.generate(codes, 3), codes * 2)

    wgan = StubGenerator("wgan_gp", conditional=False, code_dim=3)
    unconditional = tr.unconditional_source(
        wgan, targets=np.zeros((5, 3)), project=lambda x: x, n_candidates=50, seed=1
    )
    assert unconditional.name == "wgan_gp_noise3"
    assert unconditional.start.shape == (5, 3)
    assert unconditional.reference.shape == (50, 3)
    # every target is 0 and cells are 2 * code: the start is the draw of smallest norm
    norms = np.linalg.norm(unconditional.reference, axis=1)
    np.testing.assert_array_equal(unconditional.start[0], unconditional.reference[norms.argmin()])

    with pytest.raises(ValueError, match="unconditional; use unconditional_source"):
        tr.conditional_source(wgan, start=codes, reference=codes)
    with pytest.raises(ValueError, match="conditional; use conditional_source"):
        tr.unconditional_source(
            michigan, targets=codes, project=lambda x: x, n_candidates=5, seed=0
        )
