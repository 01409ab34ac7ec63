"""Held-out cell type × drug combinations: which cells train the models and which are predicted.

The paper holds out A549-S1628, K562-S1096 and MCF7-S7259 from sci-Plex 3 and predicts them by
latent arithmetic (original-code-spec §6). Every other cell, vehicle controls included, trains. The
same function splits a simulated perturbation screen with ``cell_type`` and ``drug`` obs columns.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from michigan import keys
from michigan.data.checks import check_unique_names
from michigan.messages import examples, quote

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import anndata as ad

logger = logging.getLogger(__name__)

#: held-out (cell type, drug) pairs of Yu & Welch (2021), sci-Plex 3
PAPER_HELD_OUT: tuple[tuple[str, str], ...] = (
    ("A549", "S1628"),
    ("K562", "S1096"),
    ("MCF7", "S7259"),
)


@dataclass(frozen=True)
class HeldOutSplit:
    """Train and held-out cells, by obs name.

    Attributes
    ----------
    pairs
        Held-out (cell type, drug) pairs, in the order given.
    train
        Names of the training cells, in obs order.
    held_out
        For each pair, keyed ``"<cell_type>-<drug>"``, the names of its cells in obs order.
    """

    pairs: tuple[tuple[str, str], ...]
    train: tuple[str, ...]
    held_out: Mapping[str, tuple[str, ...]]


def condition_name(cell_type: str, drug: str) -> str:
    """The ``condition`` label of a pair: ``"<cell_type>-<drug>"``."""
    return f"{cell_type}-{drug}"


def held_out_split(
    adata: ad.AnnData,
    *,
    pairs: Sequence[Sequence[str]] = PAPER_HELD_OUT,
    cell_type_key: str = keys.CELL_TYPE,
    drug_key: str = keys.DRUG,
    source: str = "adata",
) -> HeldOutSplit:
    """Split the cells of ``adata`` into training cells and held-out (cell type, drug) pairs.

    Parameters
    ----------
    adata
        Cells with a cell type and a drug label in ``obs`` (sci-Plex or a simulated screen).
    pairs
        ``[(cell_type, drug), ...]`` to hold out; default :data:`PAPER_HELD_OUT`.
    cell_type_key, drug_key
        obs columns of the cell type and the drug.
    source
        The file ``adata`` was read from, for the messages.

    Returns
    -------
    HeldOutSplit
        Cells of the pairs in ``held_out``, every other cell in ``train``.

    Raises
    ------
    KeyError
        If ``cell_type_key`` or ``drug_key`` is not an obs column.
    ValueError
        If cell names repeat (a cell could then be both trained on and held out); if ``pairs``
        is empty, repeats a pair or holds something other than two labels; if a pair has no
        cell; or if a held-out cell type or drug has no training cell left (latent arithmetic
        needs both in the training data).
    """
    obs = adata.obs
    check_unique_names(obs.index, what="cell", where=source)
    for key in (cell_type_key, drug_key):
        if key not in obs.columns:
            msg = (
                f"{source} obs has no column {quote(key)} to split on; "
                f"columns: {examples(obs.columns, limit=20)}"
            )
            raise KeyError(msg)
    wanted = _validate_pairs(pairs)
    cell_types = obs[cell_type_key].astype(str).to_numpy()
    drugs = obs[drug_key].astype(str).to_numpy()
    names = obs.index.astype(str).to_numpy()
    in_any = np.zeros(len(names), dtype=bool)
    held_out: dict[str, tuple[str, ...]] = {}
    for cell_type, drug in wanted:
        mask = (cell_types == cell_type) & (drugs == drug)
        if not mask.any():
            msg = _absent_pair_message(cell_type, drug, cell_types, drugs, cell_type_key, drug_key)
            raise ValueError(msg)
        held_out[condition_name(cell_type, drug)] = tuple(names[mask])
        in_any |= mask
    train = ~in_any
    for cell_type, drug in wanted:
        if not (train & (cell_types == cell_type)).any():
            msg = f"holding out {cell_type}-{drug} leaves no training cell of type {cell_type!r}"
            raise ValueError(msg)
        if not (train & (drugs == drug)).any():
            msg = f"holding out {cell_type}-{drug} leaves no training cell treated with {drug!r}"
            raise ValueError(msg)
    logger.info(
        "split: %d training cells; held out %s",
        int(train.sum()),
        ", ".join(f"{name} ({len(cells)} cells)" for name, cells in held_out.items()),
    )
    return HeldOutSplit(pairs=wanted, train=tuple(names[train]), held_out=held_out)


def _validate_pairs(pairs: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    """Pairs as a tuple of 2-tuples of strings; reject empty, malformed and repeated pairs."""
    if len(pairs) == 0:
        msg = "no held-out (cell type, drug) pair given"
        raise ValueError(msg)
    checked: list[tuple[str, str]] = []
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            msg = f"held-out pair {quote(pair)} must be [cell_type, drug]"
            raise ValueError(msg)
        item = (str(pair[0]), str(pair[1]))
        if item in checked:
            msg = f"held-out pair {list(item)} is given twice"
            raise ValueError(msg)
        checked.append(item)
    return tuple(checked)


def _absent_pair_message(
    cell_type: str,
    drug: str,
    cell_types: np.ndarray,
    drugs: np.ndarray,
    cell_type_key: str,
    drug_key: str,
) -> str:
    """Say which half of an absent pair is missing."""
    if cell_type not in set(cell_types):
        present = examples(sorted(set(cell_types)), limit=20)
        return f"held-out cell type {quote(cell_type)} is not in obs[{quote(cell_type_key)}]: {present}"
    if drug not in set(drugs):
        return f"held-out drug {quote(drug)} is not in obs[{quote(drug_key)}]: {examples(sorted(set(drugs)), limit=20)}"
    return f"no cell of type {quote(cell_type)} received drug {quote(drug)}; the pair cannot be held out"


def write_split(split: HeldOutSplit, path: Path) -> None:
    """Write a split as JSON: ``{"pairs": [[ct, drug], ...], "train": [...], "held_out": {...}}``.

    The file is written to a temporary name and renamed, so a reader never sees half of it.
    """
    payload = {
        "pairs": [list(pair) for pair in split.pairs],
        "train": list(split.train),
        "held_out": {name: list(cells) for name, cells in split.held_out.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_split(path: Path) -> HeldOutSplit:
    """Read a split written by :func:`write_split`.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    KeyError
        If an entry (``pairs``, ``train``, ``held_out``) is missing.
    """
    if not path.is_file():
        msg = f"split file {path} does not exist"
        raise FileNotFoundError(msg)
    payload = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in ("pairs", "train", "held_out") if k not in payload]
    if missing:
        msg = f"split file {path} lacks the entries {missing}"
        raise KeyError(msg)
    return HeldOutSplit(
        pairs=tuple((str(ct), str(drug)) for ct, drug in payload["pairs"]),
        train=tuple(payload["train"]),
        held_out={name: tuple(cells) for name, cells in payload["held_out"].items()},
    )
