"""Checks of a whole, schema-valid configuration that one key's schema cannot express.

Run once before any job (by the Snakefile and by ``michigan <stage> --config``): ``by_dataset``
entries must name a dataset, MichiGAN's critic must end in the code dimension, and the simulations
must fit in memory. :func:`override_notes` says where a ``by_dataset`` value of an earlier
configuration file overrides a value that a later one sets.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from michigan import catalogue
from michigan.config import BY_DATASET, ConfigError, job_section

#: the most matrix entries (cells x genes) a simulation may hold: 8 GB as float64 per matrix, of
#: which Splat keeps several at once
MAX_SIMULATED_ENTRIES = 10**9


def check_workflow_config(config: Mapping[str, Any], *, source: str) -> None:
    """Raise :class:`~michigan.config.ConfigError` listing every cross-key problem of ``config``.

    ``config`` is schema-valid with its defaults filled in.
    """
    problems = [
        *_unknown_datasets(config),
        *_critic_width(config),
        *_simulation_sizes(config),
    ]
    if problems:
        msg = f"invalid configuration in {source}:\n" + "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(msg)


def _unknown_datasets(config: Mapping[str, Any]) -> list[str]:
    known = sorted(catalogue.datasets(config))
    problems = []
    for name, section in config.items():
        if not isinstance(section, Mapping):
            continue
        for dataset in section.get(BY_DATASET) or {}:
            if dataset not in known:
                close = difflib.get_close_matches(dataset, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    f"key '{name}.{BY_DATASET}.{dataset}': no dataset is named {dataset!r}{hint}; "
                    f"datasets: {', '.join(known)}"
                )
    return problems


def _critic_width(config: Mapping[str, Any]) -> list[str]:
    """MichiGAN's projection critic needs ``critic_hidden[-1] == latent_dim`` for every dataset."""
    if "michigan" not in config["generator"]["models"]:
        return []
    overridden = {
        dataset
        for section in ("representation", "generator")
        for dataset in config[section].get(BY_DATASET) or {}
    }
    problems = []
    for dataset in [None, *sorted(overridden)]:
        latent_dim = job_section(config, "representation", dataset=dataset)["latent_dim"]
        critic = job_section(config, "generator", dataset=dataset)["critic_hidden"]
        if critic is None or critic[-1] == latent_dim:
            continue
        own = dataset is not None and "critic_hidden" in config["generator"][BY_DATASET].get(
            dataset, {}
        )
        key = (
            f"generator.{BY_DATASET}.{dataset}.critic_hidden" if own else "generator.critic_hidden"
        )
        where = f" for dataset {dataset}" if dataset else ""
        problems.append(
            f"key {key!r}: its last width {critic[-1]} differs from representation.latent_dim "
            f"{latent_dim}{where}; MichiGAN's projection critic needs them equal (leave "
            "critic_hidden unset and its last width follows latent_dim)"
        )
    return problems


def _simulation_sizes(config: Mapping[str, Any]) -> list[str]:
    """Refuse simulations whose cells x genes matrices cannot fit in memory."""
    sizes = {
        f"simulation (simulated/{variant})": _cells_and_genes(
            job_section(config, "simulation", dataset=f"simulated/{variant}")
        )
        for variant in config["simulation"]["variants"]
    }
    screen = config["screen"]
    cells = screen["n_cell_types"] * (screen["n_drugs"] + 1) * screen["cells_per_condition"]
    sizes["screen"] = (cells, screen["n_genes"])
    return [
        f"key '{name.split()[0]}.n_genes': {cells} cells x {genes} genes in {name} is "
        f"{cells * genes:.3g} matrix entries, more than the {MAX_SIMULATED_ENTRIES:.0e} that fit "
        "in memory; lower n_genes or the cell counts"
        for name, (cells, genes) in sizes.items()
        if cells * genes > MAX_SIMULATED_ENTRIES
    ]


def _cells_and_genes(section: Mapping[str, Any]) -> tuple[int, int]:
    return sum(section["batch_cells"]), section["n_genes"]


def override_notes(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Where a ``by_dataset`` value hides a value set by a later configuration layer.

    Parameters
    ----------
    layers
        ``(name, mapping)`` of every configuration file or command-line override, in the order
        they are merged (later wins).

    Returns
    -------
    list of str
        One line per ``section.by_dataset.<dataset>.<key>`` that overrides ``section.<key>`` set
        by a later layer, naming both values and where they come from.
    """
    notes = []
    for section, overrides in _merged_by_dataset(layers).items():
        for dataset, values in overrides.items():
            for key, value in values.items():
                set_by = _last_layer(layers, (section, key))
                override_by = _last_layer(layers, (section, BY_DATASET, dataset, key))
                if set_by is None or set_by <= override_by:
                    continue
                name, layer = layers[set_by]
                notes.append(
                    f"note: {section}.{BY_DATASET}.{dataset}.{key} = {value!r} (from "
                    f"{layers[override_by][0]}) overrides {section}.{key} = "
                    f"{layer[section][key]!r} (from {name}) for the dataset {dataset}; set "
                    f"{section}.{BY_DATASET}.{dataset}.{key} to change it there"
                )
    return notes


def _merged_by_dataset(
    layers: Sequence[tuple[str, Mapping[str, Any]]],
) -> dict[str, dict[str, dict[str, Any]]]:
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for _, layer in layers:
        for section, values in layer.items():
            if isinstance(values, Mapping) and isinstance(values.get(BY_DATASET), Mapping):
                for dataset, keys in values[BY_DATASET].items():
                    if isinstance(keys, Mapping):
                        merged.setdefault(section, {}).setdefault(dataset, {}).update(keys)
    return merged


def _last_layer(layers: Sequence[tuple[str, Mapping[str, Any]]], path: tuple[str, ...]) -> Any:
    """Index of the last layer that sets ``path`` (None if none does)."""
    found = None
    for index, (_, layer) in enumerate(layers):
        node: Any = layer
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            found = index
    return found
