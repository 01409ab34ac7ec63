"""Snakemake on the repository's Snakefile, as the workflow tests start it (one helper for all)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"


def snakemake_command(
    workdir: Path,
    *args: str,
    config: Mapping[str, Any] | None = None,
    targets: Sequence[str] = (),
    profile: str | None = "none",
) -> list[str]:
    """The command line: ``targets``, ``args``, then ``config`` written to ``workdir/tiny.yaml``.

    Targets come first because ``--configfile`` takes every following word as a file; ``profile`` is
    the workflow profile (``None``: the repository's default one).
    """
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE)]
    command += ["--directory", str(workdir)]
    if profile is not None:
        command += ["--workflow-profile", profile]
    command += [*targets, *args]
    if config is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        configfile = workdir / "tiny.yaml"
        configfile.write_text(yaml.safe_dump(dict(config)))
        command += ["--configfile", str(configfile)]
    return command


def snakemake_env(path_first: Path | None = None) -> dict[str, str]:
    """This environment with the virtual environment's ``bin`` (and ``path_first``) on PATH."""
    folders = [str(Path(sys.executable).parent), os.environ["PATH"]]
    if path_first is not None:
        folders.insert(0, str(path_first))
    return {**os.environ, "PATH": os.pathsep.join(folders)}


def snakemake(
    workdir: Path,
    *args: str,
    config: Mapping[str, Any] | None = None,
    targets: Sequence[str] = (),
    profile: str | None = "none",
    path_first: Path | None = None,
    timeout: int = 1800,
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir`` (see :func:`snakemake_command`); output captured, never raises."""
    command = snakemake_command(workdir, *args, config=config, targets=targets, profile=profile)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=snakemake_env(path_first),
        timeout=timeout,
        check=False,
    )
