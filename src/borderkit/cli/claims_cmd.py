"""``borderkit claims``: every claim of a case measured against every line source, with a verdict.

``--json`` prints a list with one object per claim (stable keys)::

    {"claim_id", "statement", "quantity", "qualifier",
     "claimed": {"value", "unit", "metres"},
     "measured": [{"source", "reading", "value", "unit", "value_m", "difference", "method",
                   "verdict", "accept": {"min", "max"}, "uncertainty_m", "features",
                   "from": {"lat", "lon"}, "to": {"lat", "lon"}, "note"}],
     "not_measured": [{"source", "reading", "reason"}],
     "readings": [{"label", "text", "measured"}], "ambiguous",
     "verdict", "verdict_by_source", "tolerance"}
"""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import case_option, check_output, echo_json, json_option, output_option, overwrite_option


@click.command()
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Line source to measure against; repeatable. Default: every source of the case.")
@click.option("--claims", "claims_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A claims CSV to evaluate instead of the case's claims.")
@click.option("--tolerance-m", type=float, default=None, metavar="M",
              help="Replace the qualifier/rounding part of every tolerance by ± M metres.")
@case_option
@output_option("Write the full table (one row per claim, reading and source) to FILE (.csv, or .json).")
@overwrite_option
@json_option
def claims(sources: tuple[str, ...], claims_path: Path | None, tolerance_m: float | None, case_name: str | None,
           output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Evaluate the claims of the case: claimed vs measured per source and reading, with a verdict.

    A verdict is "consistent" when the measured value lies in the band the claim
    allows (its qualifier and rounding) widened by the measurement's uncertainty
    (line accuracy ⊕ point precision); "consistent" means "not contradicted",
    not "confirmed". Ambiguous claims are measured under each plausible reading.
    """
    import json
    import math

    from borderkit import datasets
    from borderkit.claims import claims_report, evaluate_claims, read_claims
    from borderkit.io.atomic import atomic_output

    check_output(output, overwrite)
    case = datasets.load(case_name or datasets.DEFAULT_CASE)
    cl = read_claims(claims_path) if claims_path is not None else None
    if len(case.claims if cl is None else cl) == 0:
        # nothing to evaluate (a user case without claims.csv): an empty result, said plainly
        report: list = []
        if output is not None:
            with atomic_output(output, overwrite=overwrite) as tmp:
                tmp.write_text("[]\n" if output.suffix.lower() == ".json" else "", encoding="utf-8")
        if as_json:
            echo_json(report)
        else:
            where = claims_path if claims_path is not None else f"case {case.name!r}"
            click.echo(f"no claims to evaluate: {where} has none (give a claims CSV with --claims FILE)")
        return
    tab = evaluate_claims(case, claims=cl, sources=sources or None, tolerance=tolerance_m)
    report = claims_report(tab)
    if output is not None:
        with atomic_output(output, overwrite=overwrite) as tmp:
            if output.suffix.lower() == ".json":
                tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                               encoding="utf-8")
            else:
                tab.to_csv(tmp, index=False)
    if as_json:
        echo_json(report)
        return

    def fmt(v: float, unit: str) -> str:
        if v is None or not math.isfinite(v):
            return "–"
        return f"{v:.2f} {unit}" if unit == "km" else f"{v:.0f} {unit}"

    for c in report:
        unit = c["claimed"]["unit"]
        q = f" ({c['qualifier']})" if c["qualifier"] else ""
        click.echo(f"{c['claim_id']}: \"{c['statement']}\" — claimed {c['claimed']['value']:g} {unit}{q}")
        click.echo(f"  verdict: {c['verdict'].upper()}" + ("  (ambiguous: several readings measured)"
                                                            if c["ambiguous"] else ""))
        for m in c["measured"]:
            hi = "∞" if m["accept"]["max"] is None else fmt(m["accept"]["max"], unit)
            click.echo(f"  {m['reading']:<24} {m['source']:<20} {fmt(m['value'], unit):>12}  "
                       f"accept {fmt(m['accept']['min'], unit)} … {hi:<10} {m['verdict']}")
        reasons: dict[tuple[str, str], list[str]] = {}
        for n in c["not_measured"]:
            reasons.setdefault((n["reading"], n["reason"]), []).append(n["source"])
        for (reading, reason), srcs in reasons.items():
            every = len(srcs) == len({m["source"] for m in c["measured"]} | set(srcs))
            where = "" if every else f" [{', '.join(srcs)}]"
            click.echo(f"  {reading:<24} cannot be measured: {reason}{where}")
        click.echo(f"  tolerance: {c['tolerance']}")
        click.echo("")
    click.echo("Distances: geodesic metres on WGS84; 'accept' = the claim's band widened by the line's accuracy "
               "and the point's precision (root-sum-square). Run with --json for methods and features.")
    if output is not None:
        click.echo(f"wrote {output}")
