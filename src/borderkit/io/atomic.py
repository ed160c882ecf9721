"""Atomic output files: a failed run never leaves a partial or 0-byte file behind.

Every file borderkit writes (``check -o``, ``map -o``, ``convert``, rasters,
PNG/SVG) goes through :func:`atomic_output`: the writer gets a temporary path
in the destination's folder, and only a writer that finished without an
exception has its file renamed over the destination (``os.replace``, atomic on
POSIX and Windows within one file system). On any error the temporary file is
removed, so a rerun is never blocked by the debris of a failed one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from borderkit.errors import OutputExistsError

__all__ = ["atomic_output", "check_output_path"]


def check_output_path(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Refuse to replace an existing file unless ``overwrite`` is true.

    Parameters
    ----------
    path
        The destination.
    overwrite
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The destination as a path.

    Raises
    ------
    borderkit.errors.OutputExistsError
        When the file exists and ``overwrite`` is false (a ``FileExistsError``).
    """
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise OutputExistsError(f"{dest}: file exists; pass --overwrite (overwrite=True) to replace it")
    return dest


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, overwrite: bool = True, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path; move it to ``path`` only when the block succeeds.

    Parameters
    ----------
    path
        The destination file.
    overwrite
        Whether an existing destination may be replaced (checked before any
        work is done and again before the rename).
    suffix
        Suffix of the temporary file; defaults to the destination's suffix,
        because some writers (GDAL drivers, matplotlib) pick the format from it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_output(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "out.txt").read_text()
    'done'
    >>> try:
    ...     with atomic_output(d / "failed.txt") as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("writer failed")
    ... except RuntimeError:
    ...     pass
    >>> sorted(p.name for p in d.iterdir())
    ['out.txt']
    """
    dest = check_output_path(path, overwrite=overwrite)
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{dest}: folder {parent} does not exist")
    tmp_suffix = suffix if suffix is not None else dest.suffix
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=tmp_suffix, dir=parent)
    os.close(fd)
    tmp = Path(name)
    # Some writers (GDAL, pyogrio) refuse to write over an existing file: hand them a free name.
    tmp.unlink()
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{dest}: the writer produced no file")
        check_output_path(dest, overwrite=overwrite)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
