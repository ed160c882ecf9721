"""``borderkit datasets``: list, describe, verify and summarise cases (bundled, user, or a case folder)."""

from __future__ import annotations

import click

from borderkit.cli.options import dataset_argument, echo_json, json_option


@click.group()
def datasets() -> None:
    """Cases and their registries (sources, licences, hashes): bundled, user cases, case folders."""


@datasets.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Names of the bundled datasets."""
    from borderkit import datasets as ds

    names = ds.names()
    if as_json:
        echo_json(names)
    else:
        for name in names:
            click.echo(name)


@datasets.command("info")
@dataset_argument
@json_option
def info(name: str, as_json: bool) -> None:
    """Every layer of a case (NAME or case folder DIR) with its source, licence and row count."""
    from borderkit.registry import find_case
    from borderkit.registry import info as registry_info

    loc = find_case(name)
    entry = registry_info(loc.name, root=loc.registry_root)
    entry["folder"] = str(loc.folder)
    entry["where"] = loc.where
    name = loc.name
    if as_json:
        echo_json(entry)
        return
    click.echo(f"{entry.get('title', name)} ({name})")
    click.echo(f"region (lon_min, lat_min, lon_max, lat_max): {entry.get('bbox')}")
    click.echo("")
    rows = []
    for key, meta in entry["files"].items():
        licences = sorted({entry["source_entries"].get(s, {}).get("licence", "?") for s in meta.get("sources", [])})
        rows.append(
            (
                key,
                "" if meta.get("rows") is None else str(meta["rows"]),
                ", ".join(meta.get("sources", [])),
                ", ".join(licences),
                meta["path"],
            )
        )
    header = ("layer", "rows", "sources", "licences", "file")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    click.echo("")
    click.echo("Sources")
    for src, meta in entry["source_entries"].items():
        line = f"  {src}: {meta.get('title', '')} — licence {meta.get('licence', '?')}"
        if meta.get("attribution"):
            line += f" — attribution: {meta['attribution']}"
        click.echo(line)


@datasets.command("verify")
@dataset_argument
def verify(name: str) -> None:
    """Check every file's sha256 against the case's registry (exit code 3 on mismatch); NAME or DIR."""
    from borderkit.registry import find_case
    from borderkit.registry import verify as registry_verify

    loc = find_case(name)
    paths = registry_verify(loc.name, root=loc.registry_root)
    click.echo(f"{loc.name}: {len(paths)} files match {loc.root / 'registry.json'}")


@datasets.command("summary")
@dataset_argument
def summary(name: str) -> None:
    """Load a case, NAME or DIR (hash-checked, validated), and print its summary."""
    from borderkit import datasets as ds

    click.echo(ds.load(name).summary())
