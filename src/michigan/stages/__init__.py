"""The pipeline stages behind ``michigan <stage>``: each a thin handler around one library call.

A stage declares its options, the config section it reads and its outputs; :mod:`michigan.cli`
does the rest (parsing, validation, logging, the ``run.json`` record). Handlers import the heavy
libraries (JAX, scanpy) inside their body so that ``michigan --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

Handler = Callable[["argparse.Namespace", Any], Mapping[str, Any] | None]


@dataclasses.dataclass(frozen=True)
class Argument:
    """One command-line option of a stage: ``flags`` and ``options`` as for ``add_argument``."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]


def arg(*flags: str, **options: Any) -> Argument:
    """Declare a stage option, e.g. ``arg("--output", type=Path, required=True, help=...)``."""
    return Argument(flags, options)


@dataclasses.dataclass(frozen=True)
class Stage:
    """A pipeline stage: its CLI surface, its config section and its outputs."""

    name: str
    help: str
    handler: Handler
    section: str | None
    arguments: tuple[Argument, ...]
    inputs: Callable[[argparse.Namespace], Mapping[str, Path | str]]
    outputs: Callable[[argparse.Namespace], Mapping[str, Path]]
    seeded: bool = False
    description: str | None = None


STAGES: dict[str, Stage] = {}


def stage(
    name: str,
    *,
    help: str,
    section: str | None,
    arguments: tuple[Argument, ...],
    inputs: Callable[[argparse.Namespace], Mapping[str, Path | str]],
    outputs: Callable[[argparse.Namespace], Mapping[str, Path]],
    seeded: bool = False,
    description: str | None = None,
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the stage ``name``."""

    def register(handler: Handler) -> Handler:
        if name in STAGES:
            msg = f"stage {name!r} is registered twice"
            raise ValueError(msg)
        STAGES[name] = Stage(
            name=name,
            help=help,
            handler=handler,
            section=section,
            arguments=arguments,
            inputs=inputs,
            outputs=outputs,
            seeded=seeded,
            description=description,
        )
        return handler

    return register


# Importing the stage modules registers their stages, in pipeline order for `michigan --help`.
for _module in ("simulate", "data", "models", "evaluate", "report", "predict", "figures"):
    importlib.import_module(f"michigan.stages.{_module}")
