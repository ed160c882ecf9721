"""``borderkit convert``: read a layer with the library reader, write it with :func:`borderkit.io.write_layer`."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from borderkit.cli.options import case_option, case_region, overwrite_option

KINDS = ("lines", "territories", "incidents", "places")


@click.command()
@click.argument("source", metavar="IN", type=click.Path(exists=True, path_type=Path))
@click.argument("dest", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), help="Layer kind of IN (default: told by its id column).")
@click.option("--layer", help="Layer of IN to read, in a multi-layer file (GeoPackage, KML, GPX).")
@case_option
@overwrite_option
def convert(source: Path, dest: Path, kind: str | None, layer: str | None, case_name: str | None,
            overwrite: bool) -> None:
    """Convert a layer file IN to OUT, in the format OUT's suffix names.

    Formats: .geojson .gpkg .parquet .csv .tsv .kml .gpx .shp .zip (zipped
    Shapefile). IN is validated as the readers do; OUT reads back with the same
    columns. A note on stderr says when OUT's format shortens something
    (Shapefile: 254-byte text, 10-character field names; GPX tracks).
    Coordinates are checked against --case's region (default: the bundled case),
    as in `borderkit validate`.
    """
    from borderkit.errors import FormatLimitError
    from borderkit.io import read_layer, write_layer
    from borderkit.io.writers import output_format

    try:
        output_format(dest)
    except FormatLimitError as exc:
        raise click.BadParameter(str(exc), param_hint="OUT") from exc
    if dest.exists() and not overwrite:
        raise click.UsageError(f"{dest} exists; pass --overwrite to replace it")
    if kind is None:
        from borderkit.io import detect_layer_kind

        # a file the readers cannot read raises their own one-line message here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio's note on multi-layer files
            kind = detect_layer_kind(source)
        if kind not in KINDS:
            raise click.UsageError(f"{source}: cannot tell the layer kind from its columns; pass --kind")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = read_layer(source, kind, layer=layer, **case_region(case_name))
        out = write_layer(gdf, dest, kind=kind, overwrite=overwrite)
    for w in caught:
        if issubclass(w.category, UserWarning):
            click.echo(f"borderkit: warning: {' '.join(str(w.message).split())}", err=True)
    click.echo(f"{out}: {len(gdf)} {kind} written")
