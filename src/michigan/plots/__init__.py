"""The paper's figures: one function per figure, taking arrays or tables and writing one image.

Figures are drawn with matplotlib's object-oriented API on the Agg renderer (no display, no pyplot
state). The UMAP they share is fitted once per dataset by :mod:`michigan.plots.embedding`.
"""

from __future__ import annotations

from michigan.plots.bars import plot_code_factor_bars
from michigan.plots.curves import plot_training_curves
from michigan.plots.groups import plot_embedding_groups
from michigan.plots.prediction import plot_delta_h, plot_lowdh, plot_rf_error_scatter
from michigan.plots.traversal import plot_traversal_embedding, plot_traversal_genes
from michigan.plots.umap import default_color_columns, plot_umap_by_codes, plot_umap_by_obs

__all__ = [
    "default_color_columns",
    "plot_code_factor_bars",
    "plot_delta_h",
    "plot_embedding_groups",
    "plot_lowdh",
    "plot_rf_error_scatter",
    "plot_training_curves",
    "plot_traversal_embedding",
    "plot_traversal_genes",
    "plot_umap_by_codes",
    "plot_umap_by_obs",
]
