"""Error hierarchy of borderkit.

Every exception borderkit raises on purpose derives from :class:`BorderkitError`.
Each subclass also inherits the built-in exception a Python user would expect to
catch (``ValidationError`` is a ``ValueError``, ``DatasetNotFoundError`` a
``KeyError`` …), so ``except ValueError`` keeps working in code that does not
know about borderkit.

Messages are written for the person who has to fix the input: they name the
file, the row and the column when there is one, and say how to fix the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike

__all__ = [
    "BorderkitError",
    "ValidationError",
    "InputError",
    "CRSError",
    "FileFormatError",
    "EmptyFileError",
    "EncodingError",
    "DatasetNotFoundError",
    "RegistryError",
    "OptionalDependencyError",
    "OfflineError",
    "DownloadError",
    "FormatLimitError",
    "InputTooLargeError",
    "BorderkitWarning",
    "GuessedEncodingWarning",
    "Problem",
    "FormatLimitWarning",
    "DEMError",
    "OutputExistsError",
    "DEMFileError",
    "DatumWarning",
    "MapLayerWarning",
]


class BorderkitError(Exception):
    """Root of every error borderkit raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in one place of an input file.

    Parameters
    ----------
    message
        What is wrong and how to fix it, one sentence.
    path
        The file the problem is in, when known.
    row
        1-based data row (the first feature/record is row 1, the header is not
        counted), when the problem belongs to one row.
    column
        Column (attribute) name, when the problem belongs to one column.
    """

    message: str
    path: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ValidationError(BorderkitError, ValueError):
    """Input data that borderkit refuses to use as it is.

    Carries every problem found (not only the first one) in ``problems``;
    ``str(error)`` is a single line that names the first problem and how many
    more there are, so a CLI can print it as it is.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        problems: Sequence[Problem] = (),
        path: str | PathLike[str] | None = None,
    ) -> None:
        self.problems: list[Problem] = list(problems)
        self.path = None if path is None else str(path)
        if message is None:
            if not self.problems:
                message = "invalid input"
            else:
                message = str(self.problems[0])
                if len(self.problems) > 1:
                    message += f" (and {len(self.problems) - 1} more problem(s))"
        super().__init__(message)

    @property
    def rows(self) -> list[int]:
        """Sorted 1-based numbers of the rows that have at least one problem."""
        return sorted({p.row for p in self.problems if p.row is not None})

    def report(self) -> str:
        """Every problem, one per line (for ``borderkit validate`` and logs)."""
        if not self.problems:
            return str(self)
        return "\n".join(str(p) for p in self.problems)


class InputError(ValidationError):
    """Alias kept for readability where the input is not tabular data."""


class CRSError(ValidationError):
    """A missing, wrong or unsupported coordinate reference system."""


class FileFormatError(ValidationError):
    """A file that cannot be parsed (unknown format, truncated, corrupt)."""


class EmptyFileError(FileFormatError):
    """A file that holds no records."""


class EncodingError(FileFormatError, UnicodeError):
    """Text that is not valid UTF-8 (or the declared encoding)."""


class InputTooLargeError(FileFormatError):
    """A file (or a zip member, uncompressed) larger than the readers' size limit.

    The limit bounds the memory a reader may use; raise it with the
    ``BORDERKIT_MAX_INPUT_MB`` environment variable (see
    :func:`borderkit.io.readers.max_input_bytes`).
    """


class BorderkitWarning(UserWarning):
    """Root of every warning borderkit emits on purpose (data it read but is not sure of,
    a format that shortened something, a layer left off a map …)."""


class GuessedEncodingWarning(BorderkitWarning):
    """Text whose encoding the file does not declare was decoded by a guess
    (e.g. a shapefile without ``.cpg`` read as Windows-1251): pass ``encoding=``
    when the guess is wrong."""


class DatasetNotFoundError(BorderkitError, KeyError):
    """An unknown bundled dataset or registry entry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "dataset not found"


class RegistryError(BorderkitError, RuntimeError):
    """A bundled file that does not match its registry entry (hash, rows, CRS)."""


class OptionalDependencyError(BorderkitError, ImportError):
    """A feature needs an optional package that is not installed."""


class OfflineError(BorderkitError, ConnectionError):
    """A download was asked for but the network cannot be reached."""


class DownloadError(BorderkitError, RuntimeError):
    """The server answered, but not with the file (HTTP error, missing tile)."""


class FormatLimitError(BorderkitError, ValueError):
    """A layer the chosen output format cannot hold (GPX territories, a Shapefile
    mixing points and lines, an output suffix borderkit does not write …)."""


class OutputExistsError(BorderkitError, FileExistsError):
    """An output file exists and replacing it was not asked for (``--overwrite``).

    A usage error: the CLI exits with code 2, like click's own usage errors.
    """


class FormatLimitWarning(BorderkitWarning):
    """A writer had to shorten or change something to fit the output format
    (Shapefile's 10-character field names and 254-byte text, GPX tracks …)."""


@dataclass
class _ProblemCollector:
    """Collects problems while validating, then raises them all at once."""

    path: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(message, path=self.path, row=row, column=column))

    def raise_if_any(self, error_type: type[ValidationError] = ValidationError) -> None:
        if self.problems:
            raise error_type(problems=self.problems, path=self.path)


class DEMError(ValidationError):
    """A DEM that cannot answer the question: unreadable, no data, or not covering the request.

    The message names the DEM file and says what to do (another ``--dem``, a
    fresh download, a DEM that covers the area). A ``ValueError`` like every
    :class:`ValidationError`; the CLI exits with code 1.
    """


class DEMFileError(DEMError, FileFormatError):
    """A DEM file that GDAL cannot read: not a raster, truncated or corrupt."""


class DatumWarning(BorderkitWarning):
    """A datum transformation that may be off by tens of metres or more: only a ballpark
    operation (no EPSG transformation whose area of use covers the data) was available, or a
    line declared as WGS84 matches another source better after an SK-42 → WGS84 shift."""


class MapLayerWarning(BorderkitWarning):
    """A layer of a map could not be made and is left off the map (e.g. a viewshed whose DEM failed).

    The message names the layer and the reason; the rest of the map is drawn.
    """
