"""``borderkit validate``: check users' files and report every problem at once."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import case_option, case_region, echo_json, json_option

KINDS = ("auto", "lines", "territories", "incidents", "places", "claims")

SHOWN_PER_PROBLEM = 10
"""Rows shown for one kind of problem; the rest are counted in one line."""

# values inside a message (quoted text, numbers) do not make it another kind of problem
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\d[\d.,:]*")


def detect_kind(path: Path) -> str:
    """The layer kind of ``path`` (see :func:`borderkit.io.detect_layer_kind`).

    A file the readers cannot read raises their own
    :class:`~borderkit.errors.ValidationError`; a readable file whose columns
    do not tell its kind is a usage error (pass ``--kind``).
    """
    from borderkit.io import detect_layer_kind
    from borderkit.schema import SCHEMAS

    kind = detect_layer_kind(path)
    if kind is None:
        ids = ", ".join(f"{s.id_column} ({s.kind})" for s in SCHEMAS.values() if s.id_column)
        raise click.UsageError(
            f"{path}: cannot tell which layer kind this is from its columns (it needs one of {ids}); pass --kind"
        )
    return kind


def _problem_kind(column: str | None, message: str) -> tuple[str | None, str]:
    return column, _VALUES.sub("…", message.split(" [spreadsheet row ")[0])


def _datum_hint(lines: Any, case_name: str | None) -> str | None:
    """The SK-42 hint for a lines layer declared WGS84, against the case's line sources.

    Users who forget the datum are the common error (issue: SK-42 read as WGS84 moves a
    line by about 100 m in the Caucasus): when the line matches the case's sources
    clearly better once read as SK-42, say so — a warning, never a change to the data.
    """
    from borderkit.cases import load
    from borderkit.datum import suggest_datum_shift

    if lines is None or not len(lines):
        return None
    reference = load(case_name).lines if case_name is not None else load().lines
    if not len(reference):
        return None
    w, s, e, n = lines.total_bounds
    rw, rs, re_, rn = reference.total_bounds
    if w > re_ + 0.5 or e < rw - 0.5 or s > rn + 0.5 or n < rs - 0.5:
        return None  # the case's lines are elsewhere: nothing to compare with
    report = suggest_datum_shift(lines, reference)
    return str(report["message"]) if report["suggest"] else None


def _check_file(path: Path, kind: str, case_name: str | None = None,
                region: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate one file; *region* is :func:`~borderkit.cli.options.case_region` of the case."""
    from borderkit.claims import read_claims
    from borderkit.errors import BorderkitWarning, ValidationError
    from borderkit.io import read_layer

    entry: dict[str, Any] = {
        "file": str(path),
        "kind": kind,
        "valid": False,
        "rows": None,
        "rows_valid": None,
        "rows_rejected": None,
        "problems": [],
        "warnings": [],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BorderkitWarning)
        try:
            k = detect_kind(path) if kind == "auto" else kind
            entry["kind"] = k
            if k == "claims":
                df = read_claims(path)
                entry.update(rows=len(df), rows_valid=len(df), rows_rejected=0)
            else:
                good, rejected = read_layer(path, k, errors="collect", **(region or {}))
                if k == "lines":
                    hint = _datum_hint(good, case_name)
                    if hint is not None:
                        entry["warnings"].append(f"{path}: {hint}")
                entry.update(rows=len(good) + len(rejected), rows_valid=len(good), rows_rejected=len(rejected))
                entry["problems"] = [
                    {"row": p.row, "column": p.column, "message": p.message} for p in rejected.attrs.get("problems", [])
                ]
            entry["valid"] = not entry["problems"]
        except ValidationError as exc:
            entry["problems"] = [{"row": p.row, "column": p.column, "message": p.message} for p in exc.problems] or [
                {"row": None, "column": None, "message": str(exc)}
            ]
    # a file read twice (kind detection, then validation) warns twice: once is enough
    entry["warnings"] = list(dict.fromkeys(
        [*entry["warnings"], *(str(w.message) for w in caught if issubclass(w.category, BorderkitWarning))]))
    return entry


def _echo_problems(entry: dict[str, Any]) -> None:
    from borderkit.errors import Problem

    shown: dict[tuple[str | None, str], int] = {}
    first: dict[tuple[str | None, str], dict[str, Any]] = {}
    for p in entry["problems"]:
        key = _problem_kind(p["column"], p["message"])
        shown[key] = shown.get(key, 0) + 1
        first.setdefault(key, p)
        if shown[key] <= SHOWN_PER_PROBLEM:
            click.echo(str(Problem(p["message"], path=entry["file"], row=p["row"], column=p["column"])))
    for key, count in shown.items():
        if count > SHOWN_PER_PROBLEM:
            p = first[key]
            col = f"column {p['column']!r}: " if p["column"] else ""
            click.echo(
                f"{entry['file']}: … and {count - SHOWN_PER_PROBLEM} more row(s) with the same problem as "
                f"row {p['row']} ({col}{p['message'][:80]})"
            )


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default="auto", show_default=True, help="Layer kind of FILES.")
@case_option
@json_option
def validate(files: tuple[Path, ...], kind: str, case_name: str | None, as_json: bool) -> None:
    """Check FILES against borderkit's schemas and list every problem (file, row, column, fix).

    Without --kind the kind is told by the id column (line_id, territory_id,
    incident_id, place_id, claim_id), an ACLED/UCDP GED export, or the geometry.
    Each problem is one line: FILE, row N, column 'C': what is wrong and how to
    fix it. At most 10 rows are shown per kind of problem; the rest are counted.
    Files larger than 256 MB (uncompressed) are refused unless the environment
    variable BORDERKIT_MAX_INPUT_MB raises the limit.

    Coordinates are checked against --case's region (default: the bundled
    case): data that lands in it only once latitude and longitude are swapped
    is reported as swapped, and metres labelled as degrees name the case's
    projected CRS that puts them there.

    A lines layer declared WGS84 near the --case's lines is also compared with
    them read as SK-42 (Pulkovo 1942): when it then matches clearly better, a
    warning says the datum may be mislabelled (the data are never changed).

    Exit code 0 when every file is valid, 1 when any problem was found.
    """
    region = case_region(case_name)
    results = [_check_file(path, kind, case_name, region) for path in files]
    if as_json:
        echo_json(results)
    else:
        for r in results:
            for w in r["warnings"]:
                click.echo(f"warning: {w}", err=True)
            if r["valid"]:
                click.echo(f"{r['file']}: valid {r['kind']} layer, {r['rows']} rows")
                continue
            if r["rows"] is None:
                head = "the whole file is rejected" + (f" as a {r['kind']} layer" if r["kind"] != "auto" else "")
            else:
                head = (
                    f"{r['rows_rejected']} of {r['rows']} rows rejected in the {r['kind']} layer "
                    f"({len(r['problems'])} problem(s))"
                )
            click.echo(f"{r['file']}: {head}")
            _echo_problems(r)
    if not all(r["valid"] for r in results):
        raise SystemExit(1)
