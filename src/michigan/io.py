"""Reading and writing artifacts: atomic writes, h5ad files, JSON, and the ``run.json`` provenance record."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import anndata as ad

#: distributions whose versions every run record lists
RECORDED_PACKAGES = (
    "michigan",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "numpy",
    "scipy",
    "scikit-learn",
    "anndata",
    "scanpy",
    "pandas",
    "snakemake",
)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    Works for files and directories: a reader never sees a half-written artifact, and a crash leaves
    the previous version (or nothing) in place. An existing directory is moved aside, the new one
    moved in, and only then is the old one deleted. The temporary folder is a hidden
    ``.<name>.<host>.<pid>.<random>.tmp`` beside ``path``; folders of this kind left behind by a
    killed process are removed on the next write to ``path`` (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = Path(
        tempfile.mkdtemp(
            prefix=f".{path.name}.{HOST_TAG}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
    )
    target = tmp / path.name
    try:
        yield target
        if not target.exists():
            msg = f"nothing was written to {path}"
            raise FileNotFoundError(msg)
        _replace(target, path, aside=tmp / f"{path.name}.old")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace(new: Path, path: Path, *, aside: Path) -> None:
    """Move ``new`` onto ``path``; an existing directory is moved to ``aside`` first, back on failure."""
    if not (path.is_dir() and not path.is_symlink()):
        new.replace(path)
        return
    path.replace(aside)
    try:
        new.replace(path)
    except BaseException:
        aside.replace(path)
        raise


HOST_TAG = re.sub(r"\W", "_", socket.gethostname().split(".")[0]) or "host"
#: a temporary folder of another host is taken for abandoned after this long
_FOREIGN_TMP_AGE_S = 24 * 3600


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Delete the temporary folders :func:`atomic_path` left beside ``path`` in killed processes.

    A folder is stale when the process that made it (named in the folder name) no longer runs on
    this host, or, for a folder of another host, when it is older than a day. Returns what was removed.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\w+)\.(\d+)\.\w+\.tmp")
    removed = []
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = pattern.fullmatch(entry.name)
        if match is None or not _abandoned(entry, match[1], int(match[2])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _abandoned(entry: Path, host: str, pid: int) -> bool:
    if host != HOST_TAG:
        try:
            return time.time() - entry.stat().st_mtime > _FOREIGN_TMP_AGE_S
        except FileNotFoundError:
            return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class BusyError(RuntimeError):
    """Another process holds the lock of an output: two runs must not write the same files."""


@contextlib.contextmanager
def exclusive_lock(directory: str | Path, *, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (file ``directory/.lock``) for the block.

    The lock is an ``flock`` of an open file, so the operating system releases it when the holder
    exits or is killed: a lock is never left stale.

    Raises
    ------
    BusyError
        At once, naming ``what``, the directory and the holder's process id, when another process
        holds the lock.
    """
    import fcntl

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = directory / ".lock"
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            msg = (
                f"{what} is already running: {lock} is held by {holder}; wait for that run to "
                "finish (or stop it) before starting another on the same output"
            )
            raise BusyError(msg) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file, with an error naming the file when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        msg = f"JSON file not found: {path}"
        raise FileNotFoundError(msg)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"{path} is not valid JSON: {exc}"
        raise ValueError(msg) from exc


def _json_default(value: Any) -> Any:
    """Encode NumPy scalars/arrays, paths and tuples-like objects in JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "items"):
        return dict(value.items())
    msg = f"cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def read_h5ad(path: str | Path) -> ad.AnnData:
    """Read an ``.h5ad`` file with an error naming it when it is missing or unreadable."""
    import anndata as ad

    path = Path(path)
    if not path.is_file():
        msg = f"h5ad file not found: {path}"
        raise FileNotFoundError(msg)
    try:
        return ad.read_h5ad(path)
    except Exception as exc:
        msg = f"{path} is not a readable h5ad file: {exc}"
        raise ValueError(msg) from exc


def write_h5ad(adata: ad.AnnData, path: str | Path) -> None:
    """Write ``adata`` to ``path`` atomically (gzip-compressed)."""
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="gzip")


# --------------------------------------------------------------------------------------------------
# provenance


def run_record_path(output: str | Path) -> Path:
    """Where the run record of an output goes: ``dir/run.json`` for a directory, ``name.run.json`` beside a file."""
    output = Path(output)
    if output.suffix:
        return output.with_name(f"{output.stem}.run.json")
    return output / "run.json"


def package_versions() -> dict[str, str]:
    """Versions of the packages that determine a result."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The current git commit of the working directory (with ``-dirty`` if modified), or None."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def device_description() -> dict[str, Any]:
    """The host and, if JAX is already imported, its default backend and devices."""
    info: dict[str, Any] = {
        "host": platform.node(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    import sys

    for variable in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES"):
        if variable in os.environ:
            info[variable.lower()] = os.environ[variable]
    if "jax" in sys.modules:
        import jax

        info["jax_backend"] = jax.default_backend()
        info["jax_devices"] = [str(d) for d in jax.devices()]
    return info


class RunRecorder:
    """Collects what a stage ran with and writes it as a ``run.json`` next to its output."""

    def __init__(
        self,
        *,
        stage: str,
        config: Mapping[str, Any] | None,
        seed: int | None,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any],
        argv: list[str],
    ) -> None:
        self.record: dict[str, Any] = {
            "stage": stage,
            "config": dict(config) if config is not None else None,
            "seed": seed,
            "inputs": dict(inputs),
            "outputs": dict(outputs),
            "argv": argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": package_versions(),
            "git_commit": git_commit(Path(__file__).parent),
        }
        self._t0 = time.perf_counter()

    def write(self, path: str | Path, *, extra: Mapping[str, Any] | None = None) -> None:
        """Add wall time, device and ``extra`` (e.g. a summary of the result), then write atomically."""
        self.record["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        self.record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.record["device"] = device_description()
        if extra:
            self.record["result"] = dict(extra)
        write_json(self.record, path)
