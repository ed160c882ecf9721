"""Options shared by several commands, declared once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from borderkit.datasets import DEFAULT_CASE

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON to stdout.")

dataset_argument = click.argument("name", required=False, default=DEFAULT_CASE, metavar="[NAME]")

overwrite_option = click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")


def output_option(help_text: str = "Write to FILE instead of stdout.") -> Any:
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def check_output(path: Path | None, overwrite: bool) -> None:
    """Refuse to replace an existing output file unless --overwrite is given."""
    if path is not None and path.exists() and not overwrite:
        raise click.UsageError(f"{path} exists; pass --overwrite to replace it")


def echo_json(obj: Any) -> None:
    """Print JSON in the project's stable form (sorted keys, no NaN)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False, default=_default))


def _default(o: Any) -> Any:
    import math

    if hasattr(o, "item"):  # numpy scalars
        o = o.item()
        if isinstance(o, float) and not math.isfinite(o):
            return None
        return o
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"cannot encode {type(o).__name__} as JSON")
