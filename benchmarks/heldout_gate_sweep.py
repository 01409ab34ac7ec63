"""Generator steps against MichiGAN's RF error on the combinations it was trained on (the gate).

The held-out verdicts (docs/prediction.md, "Verdicts") count a run as uninformative when MichiGAN's
median RF error on trained-on combinations stays below the floor (0.1): a generator that cannot
reproduce cells it has seen says nothing about latent arithmetic. This script finds how many
generator steps clear that gate on the simulated screen: for each value of ``--epochs`` it runs the
pipeline's own rules up to the heldout run's prediction table (``snakemake`` in one work directory,
so the screen, the split and beta-TCVAE are made once and only MichiGAN and the predictions rerun)
and prints one row per point:

    epochs  steps  trained-on MichiGAN  held-out MichiGAN  beta-TCVAE (N(0,1))  none  spread  floor
    ceiling  own codes: MichiGAN  beta-TCVAE spread  MichiGAN dispersion  wall

(median RF errors over the predictions; steps = epochs x floor(training cells / batch size), one
generator step per ``n_critic`` critic steps). The "own codes" columns decode each trained-on
combination's training cells from their own codes, without latent arithmetic
(:mod:`michigan.predict.reconstruction`): medians over those combinations of the RF error against the
same cells and of MichiGAN's dispersion (its cells' mean per-gene standard deviation over the real
cells'; 1 is as spread as the real cells). Each point retrains MichiGAN from scratch, so the cost is
the sum of the points.

usage: python benchmarks/heldout_gate_sweep.py [--epochs 10 30 100] [--cells 300]
           [--vae-epochs 100] [--rf-trees 50] [--codes sampled] [--dropout active|off]
           [--workdir DIR] [--cores 2] [--tsv OUT.tsv]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from michigan import keys
from michigan.data.splits import read_split
from michigan.predict.decoders import load_prediction_models, prediction_decoders
from michigan.predict.reconstruction import reconstruct_combinations

REPO = Path(__file__).resolve().parents[1]
FLOOR, CEILING = "unshifted_control", "real_half"


def sweep_config(args: argparse.Namespace, epochs: int) -> dict:
    """The configuration of one point: the screen experiment only, one seed, no low-Delta H run."""
    return {
        "seeds": [0],
        "experiments": ["screen_heldout"],
        "screen": {"cells_per_condition": args.cells},
        "representation": {"models": ["btcvae"], "epochs": args.vae_epochs},
        "generator": {
            "models": ["michigan"],
            "codes": [args.codes],
            "epochs": epochs,
            "dropout_active": args.dropout == "active",
        },
        "evaluation": {"rf_trees": args.rf_trees},
        "prediction": {"max_cells": args.cells},
    }


def run_point(args: argparse.Namespace, workdir: Path, epochs: int) -> dict:
    """Run the pipeline to the heldout prediction table at ``epochs``; its medians and wall time."""
    configfile = workdir / f"sweep_{epochs}.yaml"
    configfile.write_text(yaml.safe_dump(sweep_config(args, epochs)))
    target = f"results/screen/heldout/seed0/prediction/{args.codes}/predictions.tsv"
    # the target first: --configfile and --quiet take every following word
    command = [sys.executable, "-m", "snakemake", target, "--snakefile", str(REPO / "Snakefile")]
    command += ["--directory", str(workdir), "--cores", str(args.cores), "--quiet", "progress"]
    command += ["--configfile", str(configfile)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        msg = f"snakemake failed at epochs={epochs}:\n{done.stderr[-3000:]}"
        raise RuntimeError(msg)
    table = pd.read_csv(workdir / target, sep="\t")
    return {
        "epochs": epochs,
        "steps": epochs * steps_per_epoch(workdir, args),
        **medians(table),
        **own_code_medians(workdir, args),
        "wall_s": round(wall, 1),
    }


def steps_per_epoch(workdir: Path, args: argparse.Namespace) -> int:
    """Generator steps of one epoch: floor(training cells / batch size) (batch 32, the default)."""
    split = json.loads((workdir / "results/screen/splits/heldout.json").read_text())
    return math.floor(len(split["train"]) / args.batch_size)


def medians(table: pd.DataFrame) -> dict:
    """Median RF errors of MichiGAN (trained-on and held-out), each beta-TCVAE arm and references."""
    rf = table.pivot_table(
        index=["condition", "control_cell_type"], columns="decoder", values="rf_error"
    )
    held = table.groupby(["condition", "control_cell_type"])["held_out"].first()
    return {
        "trained_on_michigan": rf.loc[~held, "michigan"].median(),
        "held_out_michigan": rf.loc[held, "michigan"].median(),
        **{
            name: rf[column].median()
            for name, column in (
                ("btcvae_unit", "btcvae"),
                ("btcvae_none", "btcvae_none"),
                ("btcvae_spread", "btcvae_spread"),
                ("floor", FLOOR),
                ("ceiling", CEILING),
            )
            if column in rf
        },
    }


def own_code_medians(workdir: Path, args: argparse.Namespace) -> dict:
    """Medians over trained-on combinations of decoding their own codes (no arithmetic)."""
    results = workdir / "results/screen"
    run = results / "heldout/seed0"
    models = load_prediction_models(
        results / "preprocessed.h5ad",
        run / "btcvae/codes.h5ad",
        run / "btcvae/model",
        run / f"michigan_{args.codes}/model",
    )
    train = models.adata.obs_names.isin(list(read_split(results / "splits/heldout.json").train))
    table = reconstruct_combinations(
        models.adata,
        prediction_decoders(models, train),
        train=train,
        code_key=keys.CODE_SAMPLE if args.codes == "sampled" else keys.CODE_MEAN,
        rf_trees=args.rf_trees,
        n_jobs=args.cores,
    )
    trained_on = table[~table["held_out"]].groupby("decoder")[["rf_error", "dispersion"]].median()
    return {
        "own_codes_michigan": trained_on.loc["michigan", "rf_error"],
        "own_codes_btcvae_spread": trained_on.loc["btcvae_spread", "rf_error"],
        "michigan_dispersion": trained_on.loc["michigan", "dispersion"],
    }


def main() -> None:
    """Parse the arguments, run every point, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--cells", type=int, default=300, help="cells per combination")
    parser.add_argument("--vae-epochs", type=int, default=100)
    parser.add_argument("--rf-trees", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32, help="generator batch (default)")
    parser.add_argument("--codes", choices=["mean", "sampled"], default="sampled")
    parser.add_argument(
        "--dropout",
        choices=["active", "off"],
        default="active",
        help="the generator's dropout while training (generator.dropout_active; default: active)",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="kept; default a temporary one")
    parser.add_argument("--tsv", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gate_sweep_") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for epochs in sorted(args.epochs):
            rows.append(run_point(args, workdir, epochs))
            print(f"done: epochs {epochs} in {rows[-1]['wall_s']} s", file=sys.stderr, flush=True)
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.tsv:
        frame.to_csv(args.tsv, sep="\t", index=False)


if __name__ == "__main__":
    main()
