"""profiles/slurm: how it renders, and end-to-end runs on a real SLURM cluster through it.

The rendering tests need no cluster. For the others (marker ``slurm``) start a one-node cluster with
fake GPUs first (as root): ``bash .ci/slurm-up.sh``; where no cluster answers, they are skipped with
the reason. The workflow under test is the pipeline itself on ``tiny_config.yaml`` (the
``workflow_case`` fixture); the failure-reporting test uses the stand-in workflow in ``slurm_toy/``,
which can fail on purpose.

Snakemake runs under ``timeout -s INT``: SIGINT makes a SLURM-executor Snakemake cancel its jobs
and exit, while SIGTERM would make it wait for them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from snakemake.profiles import ProfileConfigFileParser

if TYPE_CHECKING:
    from collections.abc import Mapping

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm"
TOY_DIR = Path(__file__).resolve().parent / "slurm_toy"
SNAKEMAKE_TIMEOUT_S = 600
# Snakemake's log line for each submission (snakemake-executor-plugin-slurm 2.8).
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")
TRAINING_RULES = ("train_representation", "train_generator")
PROFILE_VARIABLES = (
    "MICHIGAN_SLURM_ACCOUNT",
    "MICHIGAN_SLURM_PARTITION",
    "MICHIGAN_SLURM_GPU_PARTITION",
    "MICHIGAN_SLURM_GPU_MODEL",
    "MICHIGAN_TRAIN_GPUS",
    "MICHIGAN_SLURM_STATUS_WAIT",
    "MICHIGAN_SLURM_STATUS_COMMAND",
)


@dataclass(frozen=True)
class WorkflowCase:
    """A workflow that the SLURM test runs, and what it expects of the run.

    Attributes
    ----------
    snakefile, configfile, targets
        Run as ``snakemake --snakefile S --configfile C [targets]`` in an empty temporary directory.
    cluster_jobs
        Rule -> how many of its jobs must be submitted to SLURM.
    gpu_rules
        The rules that must get a GPU; all other cluster rules must get none.
    run_records
        Rule -> one of its ``run.json`` files (relative to the working directory), whose
        ``record_block`` holds ``slurm_job_id`` and ``cuda_visible_devices`` as seen in the job.
    compared_outputs
        Files that must be byte-identical between the SLURM run and a local run.
    record_block
        Key of the block of a ``run.json`` that describes the host.
    """

    snakefile: Path
    configfile: Path
    cluster_jobs: Mapping[str, int]
    gpu_rules: frozenset[str]
    run_records: Mapping[str, str]
    compared_outputs: tuple[str, ...]
    targets: tuple[str, ...] = ()
    record_block: str = "host"


TOY = WorkflowCase(
    snakefile=TOY_DIR / "Snakefile",
    configfile=TOY_DIR / "config.yaml",
    cluster_jobs={
        "prepare": 1,
        "train_representation": 1,
        "train_generator": 1,
        "evaluate_representation": 1,
    },
    gpu_rules=frozenset(TRAINING_RULES),
    run_records={
        "prepare": "results/data/run.json",
        "train_representation": "results/representation/run.json",
        "train_generator": "results/generator/run.json",
        "evaluate_representation": "results/representation/evaluate_run.json",
    },
    compared_outputs=(
        "results/data/cells.csv",
        "results/representation/codes.csv",
        "results/representation/metrics.json",
        "results/generator/samples.csv",
    ),
)


TINY_RUN = "results/simulated/linear/all/seed0"
#: the pipeline's tiny config, from simulation to Table 3 (figures left out to keep the run short)
PIPELINE = WorkflowCase(
    snakefile=REPO / "Snakefile",
    configfile=Path(__file__).resolve().parent / "tiny_config.yaml",
    targets=("results/tables/table3.md",),
    cluster_jobs={
        "simulate": 1,
        "preprocess": 1,
        "train_representation": 2,
        "encode": 2,
        "evaluate_disentanglement": 2,
        "train_generator": 2,
        "generate": 2,
        "evaluate_generator_disentanglement": 2,
        "table": 1,
    },
    gpu_rules=frozenset(TRAINING_RULES),
    run_records={
        "simulate": "results/simulated/linear/counts.run.json",
        "preprocess": "results/simulated/linear/preprocessed.run.json",
        "train_representation": f"{TINY_RUN}/btcvae/model/run.json",
        "encode": f"{TINY_RUN}/btcvae/codes.run.json",
        "evaluate_disentanglement": f"{TINY_RUN}/btcvae/disentanglement.run.json",
        "train_generator": f"{TINY_RUN}/michigan_mean/model/run.json",
        "generate": f"{TINY_RUN}/michigan_mean/generated.run.json",
        "evaluate_generator_disentanglement": f"{TINY_RUN}/michigan_mean/disentanglement.run.json",
        "table": "results/tables/table3.run.json",
    },
    compared_outputs=(
        f"{TINY_RUN}/btcvae/disentanglement.json",
        f"{TINY_RUN}/michigan_mean/disentanglement.json",
        f"{TINY_RUN}/wgan_gp/disentanglement.json",
        f"{TINY_RUN}/btcvae/model/variables.msgpack",
        f"{TINY_RUN}/michigan_mean/model/variables.msgpack",
    ),
    record_block="device",
)


@dataclass(frozen=True)
class SnakemakeRun:
    """The outcome of one Snakemake run: exit status, merged stdout/stderr, working directory."""

    returncode: int
    output: str
    workdir: Path

    def submissions(self) -> dict[str, list[tuple[str, Path]]]:
        """Rule -> [(SLURM job id, SLURM log path)], from Snakemake's submission lines."""
        jobs: dict[str, list[tuple[str, Path]]] = {}
        for job_id, log in SUBMITTED.findall(self.output):
            # logs/slurm/rule_<rule>/[<wildcards>/]<jobid>.log
            rule = next(part for part in Path(log).parts if part.startswith("rule_"))
            rule = rule.removeprefix("rule_")
            jobs.setdefault(rule, []).append((job_id, Path(log)))
        return jobs

    def describe(self) -> str:
        """Exit status and the end of the output, for assertion messages."""
        return f"exit status {self.returncode}; output ends with:\n{self.output[-4000:]}"


def cluster_problem() -> str | None:
    """Say why no usable SLURM cluster answers here, or return None when one does."""
    start_hint = "start one with `bash .ci/slurm-up.sh` (root)"
    if shutil.which("sinfo") is None:
        return f"no SLURM client (sinfo is not on PATH); {start_hint}"
    try:
        probe = subprocess.run(
            ["sinfo", "--noheader", "--format=%t %G"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"sinfo did not answer within 30 s; {start_hint}"
    if probe.returncode != 0:
        return f"no SLURM controller answers (sinfo: {probe.stderr.strip()}); {start_hint}"
    nodes = [line.split() for line in probe.stdout.splitlines() if line.strip()]
    # a suffix such as `*` (not responding) or `~` (powered off) means the node cannot run jobs
    if not any(state in {"idle", "mix", "alloc"} for state, _ in nodes):
        return f"no SLURM node is up (sinfo: {probe.stdout.strip()!r}); {start_hint}"
    if not any("gpu" in gres for _, gres in nodes):
        return f"the SLURM cluster declares no GPUs; {start_hint} and FAKE_GPUS >= 1"
    return None


def snakemake_env() -> dict[str, str]:
    """Environment for Snakemake and, through ``sbatch --export=ALL``, for its jobs."""
    env = {
        key: value
        for key, value in os.environ.items()
        # CUDA_VISIBLE_DEVICES must come from SLURM (inherited, it would reach every job), and
        # the fake GPUs have no model that a MICHIGAN_SLURM_GPU_MODEL request could match
        if key not in {"CUDA_VISIBLE_DEVICES", "MICHIGAN_SLURM_GPU_MODEL"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MICHIGAN_SLURM_STATUS_WAIT"] = "2"
    env["MICHIGAN_TRAIN_GPUS"] = "1"
    # The fake GPUs set CUDA_VISIBLE_DEVICES with no device behind it: keep JAX on the CPU, and
    # let the training stages, which check their GPU request against JAX, fall back to it.
    env["JAX_PLATFORMS"] = "cpu"
    env["MICHIGAN_GPU_FALLBACK"] = "cpu"
    return env


def run_snakemake(case: WorkflowCase, workdir: Path, *args: str) -> SnakemakeRun:
    """Run Snakemake on ``case`` in ``workdir`` (created) with extra arguments ``args``."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        "timeout",
        "-s",
        "INT",
        "-k",
        "30",
        str(SNAKEMAKE_TIMEOUT_S),
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(case.snakefile),
        "--configfile",
        str(case.configfile),
        *args,
        *case.targets,
    ]
    done = subprocess.run(
        command,
        cwd=workdir,
        env=snakemake_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return SnakemakeRun(done.returncode, done.stdout, workdir)


def scheduler_history(job_ids: list[str]) -> dict[str, tuple[str, bool]]:
    """Job id -> (SLURM state, whether it was given a GPU), as SLURM itself records it.

    Reads ``sacct`` (accounting) when it works, else ``squeue --states=all``, which remembers
    finished jobs for MinJobAge (300 s on the CI cluster).
    """
    ids = ",".join(job_ids)
    sacct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ids, "--format=JobIDRaw,State,AllocTRES"],
        capture_output=True,
        text=True,
        check=False,
    )
    if sacct.returncode == 0:
        rows = [line.split("|") for line in sacct.stdout.splitlines() if line]
        return {job: (state.split()[0], "gres/gpu" in tres) for job, state, tres in rows}
    # tres-per-job holds `--gpus` requests (`%b` would show per-node GRES only)
    squeue = subprocess.run(
        ["squeue", "-h", "--states=all", "-j", ids, "-O", "JobID:24,State:24,tres-per-job:80"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split() for line in squeue.stdout.splitlines() if line.strip()]
    return {job: (state, "gpu" in tres) for job, state, tres in rows}


@pytest.fixture(scope="module")
def slurm_cluster() -> None:
    """Skip unless a SLURM cluster with GPUs answers."""
    problem = cluster_problem()
    if problem is not None:
        pytest.skip(problem)


@pytest.fixture(scope="module")
def workflow_case() -> WorkflowCase:
    """The workflow under test: the pipeline on its tiny config."""
    return PIPELINE


@pytest.fixture(scope="module")
def slurm_run(
    slurm_cluster: None, workflow_case: WorkflowCase, tmp_path_factory: pytest.TempPathFactory
) -> SnakemakeRun:
    """The workflow run through profiles/slurm."""
    workdir = tmp_path_factory.mktemp("slurm")
    return run_snakemake(workflow_case, workdir, "--workflow-profile", str(PROFILE))


@pytest.fixture(scope="module")
def local_run(
    slurm_cluster: None, workflow_case: WorkflowCase, tmp_path_factory: pytest.TempPathFactory
) -> SnakemakeRun:
    """The same workflow run locally, without any profile."""
    workdir = tmp_path_factory.mktemp("local")
    return run_snakemake(workflow_case, workdir, "--workflow-profile", "none", "--cores", "2")


@pytest.mark.slurm
def test_every_job_goes_through_sbatch(slurm_run: SnakemakeRun, workflow_case: WorkflowCase):
    assert slurm_run.returncode == 0, slurm_run.describe()
    submissions = slurm_run.submissions()
    counts = {rule: len(jobs) for rule, jobs in submissions.items()}
    assert counts == dict(workflow_case.cluster_jobs), slurm_run.describe()
    job_ids = [job_id for jobs in submissions.values() for job_id, _ in jobs]
    history = scheduler_history(job_ids)
    assert sorted(history) == sorted(job_ids), f"SLURM does not know all jobs: {history}"
    assert {state for state, _ in history.values()} == {"COMPLETED"}, history
    # slurm-keep-successful-logs: true keeps the SLURM log of every job
    for jobs in submissions.values():
        for _, log in jobs:
            assert log.is_file(), f"missing SLURM log {log}"


@pytest.mark.slurm
def test_only_training_rules_get_a_gpu(slurm_run: SnakemakeRun, workflow_case: WorkflowCase):
    assert slurm_run.returncode == 0, slurm_run.describe()
    submissions = slurm_run.submissions()
    history = scheduler_history([job for jobs in submissions.values() for job, _ in jobs])
    for rule, jobs in submissions.items():
        wants_gpu = rule in workflow_case.gpu_rules
        for job_id, _ in jobs:
            assert history[job_id][1] is wants_gpu, f"{rule} (job {job_id}): {history[job_id]}"
        record_path = slurm_run.workdir / workflow_case.run_records[rule]
        host = json.loads(record_path.read_text())[workflow_case.record_block]
        assert host.get("slurm_job_id") in {job for job, _ in jobs}, f"{record_path}: {host}"
        # SLURM sets CUDA_VISIBLE_DEVICES inside a job exactly when it allocated GPUs to it
        cuda = host.get("cuda_visible_devices")
        assert (cuda is not None) is wants_gpu, f"{record_path}: {host}"


@pytest.mark.slurm
def test_results_equal_a_local_run(
    slurm_run: SnakemakeRun, local_run: SnakemakeRun, workflow_case: WorkflowCase
):
    assert slurm_run.returncode == 0, slurm_run.describe()
    assert local_run.returncode == 0, local_run.describe()
    assert not local_run.submissions(), "the local run submitted SLURM jobs"
    for relative in workflow_case.compared_outputs:
        on_slurm = (slurm_run.workdir / relative).read_bytes()
        local = (local_run.workdir / relative).read_bytes()
        # the same code on the same inputs: byte for byte, no tolerance
        assert on_slurm == local, f"{relative} differs between the SLURM and the local run"


@pytest.mark.slurm
def test_failing_job_reports_its_log_and_error(slurm_cluster: None, tmp_path: Path):
    failed = run_snakemake(
        TOY,
        tmp_path,
        "--workflow-profile",
        str(PROFILE),
        "--config",
        "fail_rule=prepare",
        "--retries",
        "0",
    )
    assert failed.returncode != 0, failed.describe()
    submissions = failed.submissions()
    assert list(submissions) == ["prepare"], failed.describe()
    [(job_id, slurm_log)] = submissions["prepare"]
    assert f"SLURM-job '{job_id}' failed" in failed.output, failed.describe()
    # --show-failed-logs prints each log of the failed job under a "Logfile <path>:" header
    rule_log_shown = failed.output.partition("Logfile logs/prepare.log:")[2]
    assert "toy stage prepare fails on purpose" in rule_log_shown, failed.describe()
    assert f"Logfile {slurm_log}:" in failed.output, failed.describe()
    assert slurm_log.is_file(), f"the SLURM log {slurm_log} of the failed job was deleted"


def render_profile(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, object]:
    """The profile as Snakemake reads it (YTE applied), with only ``variables`` set."""
    for name in PROFILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with (PROFILE / "config.yaml").open() as stream:
        return dict(ProfileConfigFileParser().parse(stream))


def resources_by_rule(rendered: dict[str, object]) -> dict[str, dict[str, str]]:
    """``set-resources`` entries ("rule:name=value") as {rule: {name: value}}."""
    table: dict[str, dict[str, str]] = {}
    for entry in rendered["set-resources"]:
        rule, _, assignment = entry.partition(":")
        name, _, value = assignment.partition("=")
        table.setdefault(rule, {})[name] = value
    return table


def test_profile_defaults_give_one_gpu_to_the_training_rules_only(monkeypatch):
    rendered = render_profile(monkeypatch)
    assert rendered["executor"] == "slurm"
    assert not any(entry.startswith("gpu") for entry in rendered["default-resources"])
    by_rule = resources_by_rule(rendered)
    assert set(by_rule) == set(TRAINING_RULES)
    assert all(by_rule[rule]["gpu"] == "1" for rule in TRAINING_RULES)
    # unset variables leave the keys out, so that SLURM's and the plugin's defaults apply
    assert not any(
        entry.startswith(("slurm_partition", "slurm_account"))
        for entry in rendered["default-resources"]
    )
    assert not any(
        "slurm_partition" in entry or "gpu_model" in entry for entry in rendered["set-resources"]
    )
    assert "slurm-status-command" not in rendered
    assert rendered["slurm-init-seconds-before-status-checks"] == "40"


def test_profile_follows_the_environment(monkeypatch):
    rendered = render_profile(
        monkeypatch,
        MICHIGAN_SLURM_ACCOUNT="lab",
        MICHIGAN_SLURM_PARTITION="cpu",
        MICHIGAN_SLURM_GPU_PARTITION="gpu",
        MICHIGAN_SLURM_GPU_MODEL="a100",
        MICHIGAN_TRAIN_GPUS="0",
        MICHIGAN_SLURM_STATUS_WAIT="2",
        MICHIGAN_SLURM_STATUS_COMMAND="squeue",
    )
    assert {"slurm_account=lab", "slurm_partition=cpu"} <= set(rendered["default-resources"])
    for rule, resources in resources_by_rule(rendered).items():
        assert resources["slurm_partition"] == "gpu", rule
        assert resources["gpu_model"] == "a100", rule
        assert resources["gpu"] == "0", rule
    assert rendered["slurm-status-command"] == "squeue"
    assert rendered["slurm-init-seconds-before-status-checks"] == "2"


def test_gpu_partition_defaults_to_the_general_partition(monkeypatch):
    rendered = render_profile(monkeypatch, MICHIGAN_SLURM_PARTITION="shared")
    for rule, resources in resources_by_rule(rendered).items():
        assert resources["slurm_partition"] == "shared", rule
