"""Real datasets: downloads, readers, user h5ad files, the shared recipe and held-out splits.

Modules: :mod:`~michigan.data.sources` (how a raw file is described), :mod:`~michigan.data.download` and
:mod:`~michigan.data.checksums` (fetching and verifying), :mod:`~michigan.data.tabula_muris`,
:mod:`~michigan.data.sciplex` and :mod:`~michigan.data.sciplex_files` (raw formats),
:mod:`~michigan.data.table_s1` (the paper's sci-Plex subset), :mod:`~michigan.data.user_h5ad`,
:mod:`~michigan.data.preprocess` and :mod:`~michigan.data.splits`.
"""
