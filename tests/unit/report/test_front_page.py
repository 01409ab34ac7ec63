"""The report's front page: the fragment of verdicts and orderings, included by workflow.rst."""

from __future__ import annotations

import types
from pathlib import Path

import jinja2
import pandas as pd
from docutils.core import publish_parts

from michigan.report.front_page import front_page
from michigan.report.orderings import check_claims
from michigan.report.paper import TABLE1

WORKFLOW_RST = Path(__file__).resolve().parents[3] / "workflow/report/workflow.rst"
LINKS = ("orderings.tsv", "table1.tsv", "Held-out prediction")


def fragment():
    ours = {key: value + 0.1 * (key[1] == "btcvae") for key, value in TABLE1.items()}
    table = pd.DataFrame(
        [
            {"dataset": d, "model": m, "metric": k, "paper": v, "mean": ours[(d, m, k)]}
            | {"ci95": 0.01, "n_seeds": 3}
            for (d, m, k), v in TABLE1.items()
        ]
    )
    table.loc[table["model"] == "vae", "ci95"] = 1.0  # too wide to order beta-TCVAE and the VAE
    verdicts = pd.DataFrame(
        {
            "run": ["sampled/seed0", "sampled/combined", "sampled/combined"],
            "test": ["Wilcoxon rf_error: michigan > btcvae (all predictions)"] * 2
            + ["delta_h vs RF-error difference, one-sided (rho < 0)"],
            "n": [40, 40, 40],
            "p_value": [0.2, 0.01, 0.9],
            "median_generator": [0.3, 0.31, None],
            "median_arm": [0.2, 0.21, None],
            "median_floor": [0.0, 0.0, None],
            "verdict": ["not reproduced", "reproduced", "not reproduced"],
            "reason": ["p = 0.2 >= 0.05", "p = 0.01 < 0.05; *", "p = 0.9 >= 0.05"],
        }
    )
    return front_page(
        check_claims([table]), {"screen": verdicts}, files=LINKS[:2], categories=LINKS[2:]
    )


def rendered(text):
    """HTML of ``text`` with a link target per report file and category, as Snakemake adds them."""
    targets = "\n".join(f".. _{name}: javascript:show('{name}')" for name in LINKS)
    return publish_parts(f"{text}\n\n{targets}\n", writer="html")["html_body"]


def test_fragment_groups_the_claims_and_lists_the_seed_averaged_tests():
    text = fragment()
    assert "4 holds, 0 fails, 4 uninformative" in text  # 4 claims x 2 simulations
    assert "**Reproduced** (4)" in text
    assert "**Cannot be decided at this scale** (4)" in text
    assert "sampled/seed0" not in text  # only the seed average on the front page
    html = rendered(text)
    assert "system-message" not in html  # valid reStructuredText, every link resolves
    assert "<strong>reproduced</strong>" in html
    assert "javascript:show('orderings.tsv')" in html


def test_workflow_rst_includes_the_fragment_when_the_report_has_it(tmp_path):
    path = tmp_path / "front_page.rst"
    path.write_text(fragment(), encoding="utf-8")
    template = jinja2.Environment(trim_blocks=True, lstrip_blocks=True).from_string(
        WORKFLOW_RST.read_text(encoding="utf-8")
    )
    record = types.SimpleNamespace(target="front_page.rst", path=path)
    with_fragment = rendered(template.render(files=[record]))
    assert "Cannot be decided at this scale" in with_fragment
    assert "system-message" not in with_fragment
    assert "are not part of this report" in rendered(template.render(files=[]))
