"""``borderkit validate``: check users' files and report every problem at once."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import echo_json, json_option

KINDS = ("auto", "lines", "territories", "incidents", "places", "claims")


def detect_kind(path: Path) -> str:
    """Guess the layer kind of a file from its id column; raise a usage error when unsure.

    Claims are told by ``claim_id`` (checked first: claims also carry
    ``incident_id``); every other kind, including ACLED and UCDP GED exports, by
    the same rules as ``borderkit map`` (:func:`borderkit.cli.map_cmd.detect_kind`).
    """
    from borderkit.cli.map_cmd import _columns
    from borderkit.cli.map_cmd import detect_kind as detect_data_kind
    from borderkit.errors import BorderkitError

    try:
        cols = _columns(path)
    except Exception as exc:  # noqa: BLE001 - the loader below gives the detailed message
        raise click.UsageError(f"{path}: cannot read the column names ({exc}); pass --kind") from exc
    if "claim_id" in {str(c).lower() for c in cols}:
        return "claims"
    try:
        kind = detect_data_kind(path)
    except BorderkitError:
        kind = None
    if kind in KINDS:
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
