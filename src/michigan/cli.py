"""``michigan <stage> ...``: one subcommand per pipeline stage.

Every stage parses its options, loads and validates its typed config section (from a rule's JSON
``--params`` or from ``--config`` files), calls one library function through its handler in
:mod:`michigan.stages`, and writes its outputs atomically plus a ``run.json`` record beside them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from michigan import catalogue
from michigan import config as cfg
from michigan.cores import pin_from_environment
from michigan.io import BusyError, RunRecorder, run_record_path
from michigan.jaxcache import configure_compilation_cache
from michigan.progress import format_duration, setup_logging
from michigan.stages import STAGES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from michigan.stages import Stage

logger = logging.getLogger("michigan")


class _DefaultsFormatter(argparse.HelpFormatter):
    """Show an option's default in its help when it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if action.default not in (None, argparse.SUPPRESS, False) and "%(default)" not in help_text:
            help_text += " (default: %(default)s)"
        return help_text


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered stage."""
    parser = argparse.ArgumentParser(
        prog="michigan",
        description=(
            "MichiGAN reproduction pipeline. Each subcommand runs one pipeline stage; Snakemake calls "
            "them from workflow/rules/*.smk, and they can be run by hand as well."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="stage", metavar="<stage>", required=True)
    for stage in STAGES.values():
        sub = subparsers.add_parser(
            stage.name,
            help=stage.help,
            description=stage.description or stage.help,
            formatter_class=_DefaultsFormatter,
        )
        _add_common_arguments(sub, stage)
        for argument in stage.arguments:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(_stage=stage)
    return parser


def _add_common_arguments(parser: argparse.ArgumentParser, stage: Stage) -> None:
    if stage.section is not None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--params",
            metavar="JSON",
            help=(
                f"the '{stage.section}' config section as JSON (or @file.json); keys left out take "
                "the schema's defaults. This is how Snakemake rules call the stage."
            ),
        )
        source.add_argument(
            "--config",
            metavar="YAML",
            action="append",
            type=Path,
            help=(
                f"configuration file(s) to take the '{stage.section}' section from (later files "
                "override earlier ones; repeat the option)"
            ),
        )
        parser.add_argument(
            "--dataset",
            help="dataset whose 'by_dataset' overrides apply when reading --config",
        )
    if stage.seeded:
        parser.add_argument("--seed", type=int, required=True, help="random seed of this run")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="verbosity of the log written to stderr",
    )


def _load_params(
    args: argparse.Namespace, stage: Stage
) -> tuple[Any, dict[str, Any]] | tuple[None, None]:
    """The stage's typed section and its plain-JSON view, from --params or --config."""
    if stage.section is None:
        return None, None
    if args.params is not None:
        text = args.params
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        try:
            params = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"--params is not valid JSON: {exc}"
            raise cfg.ConfigError(msg) from exc
        if not isinstance(params, dict):
            msg = f"--params must be a JSON object (the '{stage.section}' section), got {params!r}"
            raise cfg.ConfigError(msg)
    else:
        config = cfg.load_config(*args.config)
        dataset = _config_dataset(args, config, stage.section)
        params = cfg.job_section(config, stage.section, dataset=dataset)
    section = cfg.load_section(stage.section, params=params)
    return section, cfg.as_dict(section)


def _config_dataset(
    args: argparse.Namespace, config: Mapping[str, Any], section: str
) -> str | None:
    """The dataset whose ``by_dataset`` overrides apply to a ``--config`` run, as in Snakemake.

    ``--dataset`` if given (it must name a dataset of the configuration), else the dataset of the
    first ``results/<dataset>/`` path among the options; the log says which was used, or that the
    section's overrides were left out.
    """
    known = catalogue.datasets(config)
    if args.dataset is not None:
        if args.dataset not in known:
            msg = f"--dataset {args.dataset!r} is no dataset of the configuration; known: {sorted(known)}"
            raise cfg.ConfigError(msg)
        return args.dataset
    overridden = sorted(config[section].get(cfg.BY_DATASET) or {})
    for value in vars(args).values():
        dataset = catalogue.dataset_of_path(value) if isinstance(value, str | Path) else None
        if dataset is not None:
            logger.info(
                "--config without --dataset: applying the by_dataset overrides of %s (from %s)",
                dataset,
                value,
            )
            return dataset
    if overridden:
        logger.warning(
            "--config without --dataset and no results/<dataset>/ path: section %r without its "
            "by_dataset overrides (set for %s); pass --dataset to apply one",
            section,
            ", ".join(overridden),
        )
    return None


def _require_inputs(inputs: Mapping[str, Path | str]) -> None:
    """Fail before any work when an input file is missing, naming the option and the path."""
    for name, path in inputs.items():
        if not Path(path).exists():
            msg = f"input {name!r} not found: {path}"
            raise FileNotFoundError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``michigan`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    pin_from_environment()
    configure_compilation_cache()
    stage: Stage = args._stage
    try:
        section, section_dict = _load_params(args, stage)
        inputs = stage.inputs(args)
        _require_inputs(inputs)
        outputs = stage.outputs(args)
        recorder = RunRecorder(
            stage=stage.name,
            config=section_dict,
            seed=getattr(args, "seed", None),
            inputs={name: str(path) for name, path in inputs.items()},
            outputs={name: str(path) for name, path in outputs.items()},
            argv=["michigan", *argv],
        )
        logger.info("stage %s started", stage.name)
        t0 = time.perf_counter()
        summary = stage.handler(args, section)
        primary = next(iter(outputs.values()))
        recorder.write(run_record_path(primary), extra=summary)
        logger.info(
            "stage %s finished in %s", stage.name, format_duration(time.perf_counter() - t0)
        )
    except Exception as exc:
        message = failure_message(exc)
        if message is None:
            raise
        logger.debug("traceback", exc_info=True)
        logger.error("%s failed: %s", stage.name, message)
        return 2
    return 0


def failure_message(exc: BaseException) -> str | None:
    """The one-line message of an expected failure (exit status 2), or ``None`` for a bug.

    Expected are bad configuration or input (``ConfigError``, ``ValueError``, ``KeyError``,
    ``OSError``), a training run that diverged (``NonFiniteLossError``), another run holding the
    output (``BusyError``), and running out of host or device memory (``MemoryError``, a JAX
    runtime error such as ``RESOURCE_EXHAUSTED``).
    """
    if isinstance(exc, MemoryError):
        return (
            f"out of host memory ({type(exc).__name__}{': ' if str(exc) else ''}{exc}); lower "
            "batch_size or the layer widths, use fewer cells or genes, or run on a larger machine"
        )
    if type(exc).__name__ in ("JaxRuntimeError", "XlaRuntimeError"):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first if len(first) <= 300 else f"{first[:300]} ..."
        if "RESOURCE_EXHAUSTED" in first:
            return (
                f"out of device memory ({first}); lower batch_size or the layer widths, use fewer "
                "cells or genes, or run on a device with more memory"
            )
        return f"the JAX runtime failed ({first})"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(
        exc, (cfg.ConfigError, ValueError, KeyError, OSError, FloatingPointError, BusyError)
    ):
        return " ".join(str(exc).split("\n"))
    return None


def _version() -> str:
    from importlib import metadata

    return metadata.version("michigan")
