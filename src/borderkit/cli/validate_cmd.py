"""``borderkit validate``: check users' files and report every problem at once."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import echo_json, json_option

KINDS = ("auto", "lines", "territories", "incidents", "places", "claims")


def _columns_of(path: Path) -> list[str]:
    """Column names of a file without reading its rows (CSV header or OGR fields)."""
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        import csv

        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            return next(csv.reader(f), [])
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pyogrio

    return list(pyogrio.read_info(path)["fields"])


def detect_kind(path: Path) -> str:
    """Guess the layer kind of a file from its id column; raise a usage error when unsure."""
    try:
        cols = set(_columns_of(path))
    except Exception as exc:  # noqa: BLE001 - the loader below gives the detailed message
        raise click.UsageError(f"{path}: cannot read the column names ({exc}); pass --kind") from exc
    for kind, markers in (
        ("claims", {"claim_id"}),
        ("incidents", {"incident_id", "event_id_cnty", "where_prec"}),
        ("places", {"place_id"}),
        ("territories", {"territory_id"}),
        ("lines", {"line_id"}),
    ):
        if cols & markers:
            return kind
    raise click.UsageError(f"{path}: cannot tell which layer kind this is from its columns; pass --kind")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default="auto", show_default=True, help="Layer kind of FILES.")
@json_option
def validate(files: tuple[Path, ...], kind: str, as_json: bool) -> None:
    """Check FILES against borderkit's schemas and list every problem (file, row, column, fix).

    Exit code 0 when every file is valid, 1 when any problem was found.
    """
    from borderkit.claims import read_claims
    from borderkit.errors import ValidationError
    from borderkit.io import read_layer

    results = []
    for path in files:
        k = detect_kind(path) if kind == "auto" else kind
        try:
            if k == "claims":
                df = read_claims(path)
            else:
                df = read_layer(path, k)
            results.append({"file": str(path), "kind": k, "valid": True, "rows": int(len(df)), "problems": []})
        except ValidationError as exc:
            problems = exc.problems or []
            results.append(
                {
                    "file": str(path),
                    "kind": k,
                    "valid": False,
                    "rows": None,
                    "problems": [
                        {"row": p.row, "column": p.column, "message": p.message} for p in problems
                    ]
                    or [{"row": None, "column": None, "message": str(exc)}],
                }
            )
    if as_json:
        echo_json(results)
    else:
        for r in results:
            if r["valid"]:
                click.echo(f"{r['file']}: valid {r['kind']} layer, {r['rows']} rows")
            else:
                click.echo(f"{r['file']}: {len(r['problems'])} problem(s) in {r['kind']} layer")
                for p in r["problems"]:
                    where = ", ".join(
                        x for x in (f"row {p['row']}" if p["row"] else "", f"column {p['column']!r}" if p["column"] else "") if x
                    )
                    click.echo(f"  {where + ': ' if where else ''}{p['message']}")
    if not all(r["valid"] for r in results):
        raise SystemExit(1)
