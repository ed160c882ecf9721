"""Entry point of the ``borderkit`` command.

Commands live in their own modules and are imported only when invoked, so
``borderkit check`` does not pay for importing matplotlib or folium.

Exit codes
----------
0   success
1   the input or data is invalid (``ValidationError`` and other ``BorderkitError``)
2   usage error (unknown option, missing argument, an output that exists without ``--overwrite``)
3   a bundled or cached file does not match its registry hash (``RegistryError``)
4   the network is needed but cannot be reached (``OfflineError``)
5   an optional dependency is missing (``OptionalDependencyError``)
10  `check --expect`: some point is determinately on another party's side of some checked line (verdict ``across``)
70  an unexpected internal error (a bug: rerun with ``-v`` for the traceback and report it)
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from borderkit._version import __version__
from borderkit.errors import (
    BorderkitError,
    OfflineError,
    OptionalDependencyError,
    OutputExistsError,
    RegistryError,
)

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_OFFLINE = 4
EXIT_DEPENDENCY = 5
EXIT_INTERNAL = 70

# command name -> "module:attribute"; the module is imported on first use.
COMMANDS: dict[str, str] = {
    "case": "borderkit.cli.case_cmd:case",
    "check": "borderkit.cli.check_cmd:check",
    "claims": "borderkit.cli.claims_cmd:claims",
    "convert": "borderkit.cli.convert_cmd:convert",
    "datasets": "borderkit.cli.datasets_cmd:datasets",
    "dem": "borderkit.cli.dem_cmd:dem",
    "los": "borderkit.cli.los_cmd:los",
    "map": "borderkit.cli.map_cmd:map_",
    "measure": "borderkit.cli.measure_cmd:measure",
    "overlaps": "borderkit.cli.overlaps_cmd:overlaps",
    "peak": "borderkit.cli.peak_cmd:peak",
    "profile": "borderkit.cli.profile_cmd:profile",
    "scan": "borderkit.cli.scan_cmd:scan",
    "sheet": "borderkit.cli.sheet_cmd:sheet",
    "sheets": "borderkit.cli.sheet_cmd:sheets",
    "validate": "borderkit.cli.validate_cmd:validate",
    "viewshed": "borderkit.cli.viewshed_cmd:viewshed",
}


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception."""
    if isinstance(exc, OutputExistsError):
        return EXIT_USAGE
    if isinstance(exc, RegistryError):
        return EXIT_INTEGRITY
    if isinstance(exc, OfflineError):
        return EXIT_OFFLINE
    if isinstance(exc, OptionalDependencyError):
        return EXIT_DEPENDENCY
    if isinstance(exc, BorderkitError):
        return EXIT_DATA
    return EXIT_INTERNAL


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class BorderkitGroup(click.Group):
    """A click group that loads commands lazily and turns errors into one line + exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # `borderkit ... | head` closed the pipe: not an error worth a message.
            sys.stderr.close()
            ctx.exit(EXIT_OK)
        except Exception as exc:  # noqa: BLE001 - the CLI boundary: one line, never a traceback
            verbose = (ctx.obj or {}).get("verbosity", 0) > 0
            if verbose:
                raise
            code = exit_code_for(exc)
            prefix = "error" if code != EXIT_INTERNAL else f"internal error ({type(exc).__name__})"
            hint = "" if code != EXIT_INTERNAL else " — rerun with -v for the traceback and report it"
            click.echo(f"borderkit: {prefix}: {_one_line(str(exc))}{hint}", err=True)
            ctx.exit(code)


@click.group(cls=BorderkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More output; with -v errors show their traceback.")
@click.option("-q", "--quiet", count=True, help="Less output (no progress bars or notes).")
@click.version_option(__version__, "--version", prog_name="borderkit")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """borderkit — map and measure border disputes.

    Distances are metres on the WGS84 ellipsoid; coordinates are longitude/latitude
    in EPSG:4326. Run `borderkit COMMAND --help` for one command.
    """
    verbosity = verbose - quiet
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbosity
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(level=max(logging.DEBUG, min(logging.CRITICAL, level)), format="%(levelname)s: %(message)s")


def main() -> None:  # pragma: no cover - console entry for `python -m borderkit`
    cli(prog_name="borderkit")
