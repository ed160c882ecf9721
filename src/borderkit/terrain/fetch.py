"""``borderkit dem fetch``: download a finer DEM for an area, with a tile cache.

Sources
-------
``terrarium`` (default)
    AWS Open Data "Terrain Tiles" (Mapzen/Tilezen joerd), Terrarium encoding:
    256 × 256 PNG tiles in the Web Mercator XYZ scheme, elevation in metres
    ``= R·256 + G + B/256 − 32768``. Default URL
    ``https://s3.amazonaws.com/elevation-tiles-prod/terrarium/{z}/{x}/{y}.png``.
    The data mix SRTM, GMTED2010, ETOPO1 and national DEMs by zoom and region
    (https://github.com/tilezen/joerd/blob/master/docs/data-sources.md); a
    zoom-12 pixel is 38.2 m × cos(latitude) (29.5 m at 39.5° N).
``geotiff``
    The same data as 512 × 512 GeoTIFF tiles (EPSG:3857) at
    ``https://s3.amazonaws.com/elevation-tiles-prod/geotiff/{z}/{x}/{y}.tif``.
``opentopography``
    OpenTopography's Global DEM API (SRTMGL1, SRTMGL3, NASADEM, AW3D30 …),
    one GeoTIFF per request; needs a free API key in the environment variable
    ``OPENTOPOGRAPHY_API_KEY``. (Copernicus GLO-30/90 is not public for
    Armenia and Azerbaijan.)

Output CRS
    Tiles are Web Mercator. By default the mosaic is written as it is, in
    EPSG:3857 — no resampling, every value is a tile pixel. ``crs="EPSG:4326"``
    warps it (bilinear) to longitude/latitude at about the same ground
    resolution. borderkit's terrain functions read either.

Cache
    Every tile is stored under ``cache_dir/<source>/<z>/<x>/<y>.<ext>`` with a
    ``.json`` sidecar holding its URL, size, sha256 and the server's ETag. The
    cache is pooch's (:func:`pooch.retrieve` with the recorded sha256 as the
    known hash): a cached tile is used when its size and sha256 match the
    sidecar; otherwise it is downloaded again, and a download replaces the
    cached file only once complete. A download goes to ``.part`` first and is resumed
    with an HTTP ``Range`` request after an interruption; the size is checked
    against ``Content-Length`` and, when the server's ETag is a plain MD5 (as
    on S3), the MD5 of the bytes against the ETag. Timeouts and retries (with
    exponential back-off) are configurable; when the network cannot be reached
    an :class:`~borderkit.errors.OfflineError` says so in one line.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import math
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from borderkit.errors import (
    DownloadError,
    OfflineError,
    OptionalDependencyError,
    OutputExistsError,
    RegistryError,
    ValidationError,
)

__all__ = [
    "TERRARIUM_URL",
    "GEOTIFF_URL",
    "OPENTOPOGRAPHY_URL",
    "SOURCES",
    "DownloadError",
    "DownloadResult",
    "default_cache_dir",
    "tiles_for_bbox",
    "tile_bounds_3857",
    "terrarium_decode",
    "terrarium_encode",
    "download",
    "fetch_dem",
]

log = logging.getLogger(__name__)

TERRARIUM_URL = "https://s3.amazonaws.com/elevation-tiles-prod/terrarium/{z}/{x}/{y}.png"
GEOTIFF_URL = "https://s3.amazonaws.com/elevation-tiles-prod/geotiff/{z}/{x}/{y}.tif"
OPENTOPOGRAPHY_URL = (
    "https://portal.opentopography.org/API/globaldem?demtype={demtype}&south={south}&north={north}"
    "&west={west}&east={east}&outputFormat=GTiff&API_Key={api_key}"
)
SOURCES = ("terrarium", "geotiff", "opentopography")
_HALF_WORLD = math.pi * 6378137.0  # Web Mercator half-extent, metres
_MAX_LAT = 85.05112877980659
USER_AGENT = "borderkit-dem-fetch (https://github.com/borderkit/borderkit)"


def default_cache_dir() -> Path:
    """``$BORDERKIT_CACHE/dem`` or the user cache dir's ``dem`` (:func:`borderkit.registry.user_cache_dir`)."""
    from borderkit.registry import user_cache_dir

    return user_cache_dir("dem")


# --------------------------------------------------------------------------------------------
# tile arithmetic (XYZ / Web Mercator)
# --------------------------------------------------------------------------------------------
def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ValidationError("bbox: expected four numbers W S E N (degrees)") from exc
    if not (-180 <= w < e <= 180):
        raise ValidationError(f"bbox: need -180 <= W < E <= 180 (degrees east), got W={w} E={e}")
    if not (-_MAX_LAT <= s < n <= _MAX_LAT):
        raise ValidationError(f"bbox: need S < N within ±{_MAX_LAT:.2f}° (Web Mercator), got S={s} N={n}")
    return w, s, e, n


def _lonlat_to_tile_xy(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 2.0**z
    x = (lon + 180.0) / 360.0 * n
    lat_r = math.radians(lat)
    y = (1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n
    return x, y


def tiles_for_bbox(bbox: Sequence[float], zoom: int) -> list[tuple[int, int, int]]:
    """XYZ tiles ``(z, x, y)`` covering a ``(W, S, E, N)`` box at a zoom level."""
    w, s, e, n = _check_bbox(bbox)
    if not (0 <= int(zoom) <= 15):
        raise ValidationError(f"zoom must be 0–15 (Terrain Tiles go to 15), got {zoom}")
    z = int(zoom)
    x0, y0 = _lonlat_to_tile_xy(w, n, z)
    x1, y1 = _lonlat_to_tile_xy(e, s, z)
    top = 2**z - 1
    xs = range(max(0, int(math.floor(x0))), min(top, int(math.ceil(x1) - 1)) + 1)
    ys = range(max(0, int(math.floor(y0))), min(top, int(math.ceil(y1) - 1)) + 1)
    return [(z, x, y) for y in ys for x in xs]


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(left, bottom, right, top)`` of a tile in EPSG:3857 metres."""
    size = 2 * _HALF_WORLD / 2**z
    left = -_HALF_WORLD + x * size
    top = _HALF_WORLD - y * size
    return (left, top - size, left + size, top)


def terrarium_decode(rgb: np.ndarray) -> np.ndarray:
    """Terrarium RGB ``(3, rows, cols)`` → elevation metres (float32): ``R·256 + G + B/256 − 32768``."""
    r, g, b = (rgb[i].astype(np.float64) for i in range(3))
    return (r * 256.0 + g + b / 256.0 - 32768.0).astype(np.float32)


def terrarium_encode(elev: np.ndarray) -> np.ndarray:
    """Elevation metres → Terrarium ``(rows, cols, 3)`` uint8 (1/256 m steps; the inverse of the decoder)."""
    v = np.clip(np.round((np.asarray(elev, dtype=np.float64) + 32768.0) * 256.0), 0, 256**3 - 1).astype(np.int64)
    r = (v >> 16) & 255
    g = (v >> 8) & 255
    b = v & 255
    return np.dstack([r, g, b]).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# downloading with cache, resume, size and checksum checks
# --------------------------------------------------------------------------------------------
@dataclass
class DownloadResult:
    """What :func:`download` did: the cached file, whether it came from the cache, bytes downloaded."""

    path: Path
    cached: bool
    bytes: int



def fill_url_template(template: str, **values: object) -> str:
    """Replace ``{name}`` placeholders in a URL template by *values*, and nothing else.

    A user's ``--url-template`` is data, not a Python format string: ``str.format``
    would also evaluate field expressions such as ``{z.__class__}``. Only the bare
    names given are replaced; any other brace text is a one-line error.

    Examples
    --------
    >>> fill_url_template("https://t.example/{z}/{x}/{y}.png", z=3, x=1, y=2)
    'https://t.example/3/1/2.png'
    """
    import re

    names = ", ".join("{" + k + "}" for k in values)

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValidationError(f"url_template: unknown placeholder {{{name}}} in {template!r}; use only {names}")
        return str(values[name])

    out = re.sub(r"\{([A-Za-z_]+)\}", one, template)
    if "{" in out or "}" in out:
        raise ValidationError(f"url_template: stray brace in {template!r}; the placeholders are {names}")
    return out


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _cache_record(path: Path) -> dict[str, Any] | None:
    """The sidecar of a cached file (``url``, ``bytes``, ``sha256``, ``etag``), or ``None``."""
    try:
        meta = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("sha256"), str) else None


_POOCH_QUIET = threading.Lock()
_pooch_quiet_depth = 0
_pooch_level = logging.NOTSET


@contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's INFO log (one line per file, with the URL — an OpenTopography key too) while we use it.

    Reference-counted, so that the parallel tile downloads do not restore the level under each other.
    """
    global _pooch_quiet_depth, _pooch_level
    import pooch

    logger = pooch.get_logger()
    with _POOCH_QUIET:
        if _pooch_quiet_depth == 0:
            _pooch_level = logger.level
            logger.setLevel(max(logging.WARNING, logger.level))
        _pooch_quiet_depth += 1
    try:
        yield
    finally:
        with _POOCH_QUIET:
            _pooch_quiet_depth -= 1
            if _pooch_quiet_depth == 0:
                logger.setLevel(_pooch_level)


def _pooch() -> Any:
    try:
        import pooch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            "dem fetch needs pooch (the tile cache); install it with `pip install 'borderkit[terrain]'`"
        ) from exc
    return pooch


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _is_offline(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", exc)
    import socket

    return isinstance(reason, (ConnectionError, socket.gaierror, socket.timeout, TimeoutError, OSError)) and not (
        isinstance(exc, urllib.error.HTTPError)
    )


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 0.5,
    verify_cache: bool = True,
    redact: str | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` through the cache (see the module docstring).

    The cache is :func:`pooch.retrieve`: it keeps ``dest`` while its sha256
    matches the one recorded when it was downloaded (the ``.json`` sidecar),
    downloads it again otherwise, and moves a download into place only after
    checking it. The download itself is borderkit's :class:`_ResumingGet` (pooch
    has no HTTP ``Range`` resume, no ETag/MD5 check and no offline message).

    Raises
    ------
    OfflineError
        The host cannot be reached (DNS, refused, timeout) after ``retries``.
    DownloadError
        The server answered with an HTTP error (404 for a missing tile …).
    RegistryError
        The bytes keep failing the size or MD5 check.
    """
    pooch = _pooch()
    dest = Path(dest)
    shown = url.replace(redact, "***") if redact else url
    record = _cache_record(dest) if verify_cache else None
    if record is not None and dest.is_file() and dest.stat().st_size != record.get("bytes"):
        log.warning("%s: size %d differs from the cache record (%s); downloading again",
                    dest, dest.stat().st_size, record.get("bytes"))
        record = None
    if record is None:
        # no trustworthy record: pooch would keep an unverified file, so it goes
        dest.unlink(missing_ok=True)
    known = f"sha256:{record['sha256']}" if record is not None else None
    get = _ResumingGet(dest, timeout=timeout, retries=retries, backoff=backoff, shown=shown)
    with _quiet_pooch():
        try:
            pooch.retrieve(url, known_hash=known, fname=dest.name, path=dest.parent, downloader=get)
        except ValueError:
            # pooch: the new download differs from the record — the server's file changed since; take the new one
            if known is None or not get.called:
                raise
            dest.unlink(missing_ok=True)
            get = _ResumingGet(dest, timeout=timeout, retries=retries, backoff=backoff, shown=shown)
            pooch.retrieve(url, known_hash=None, fname=dest.name, path=dest.parent, downloader=get)
    size = dest.stat().st_size
    if not get.called:
        return DownloadResult(dest, True, size)
    if known is not None:
        log.warning("%s: sha256 differed from the cache record; downloaded again", dest)
    from borderkit.io.atomic import atomic_output

    with atomic_output(_sidecar(dest), overwrite=True) as tmp:
        tmp.write_text(json.dumps({"url": shown, "bytes": size, "sha256": pooch.file_hash(str(dest)),
                                   "etag": get.etag}, sort_keys=True), encoding="utf-8")
    return DownloadResult(dest, False, size)


class _Incomplete(Exception):
    pass


class _ChecksumMismatch(Exception):
    pass


class _ResumingGet:
    """A pooch downloader: HTTP GET into a fixed ``<dest>.part`` with retries, resumed by ``Range``.

    Kept because pooch's :class:`pooch.HTTPDownloader` cannot do what the cache
    promises: it restarts an interrupted file from zero (no ``Range``), does not
    check the bytes against an S3-style MD5 ETag, has no back-off that the
    caller sets, and reports a dead network as a ``requests`` traceback rather
    than :class:`~borderkit.errors.OfflineError`. The ``.part`` file survives
    a failed run so the next one resumes it; the finished bytes are handed to
    pooch's temporary file, which pooch hashes and moves into the cache.
    """

    def __init__(self, dest: Path, *, timeout: float, retries: int, backoff: float, shown: str) -> None:
        self.part = dest.with_name(dest.name + ".part")
        self.timeout, self.retries, self.backoff, self.shown = timeout, retries, backoff, shown
        self.called = False
        self.etag: str | None = None

    def __call__(self, url: str, output_file: str, pooch_obj: Any) -> None:
        self.called = True
        part, shown, retries = self.part, self.shown, self.retries
        last: BaseException | None = None
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                self.etag = _fetch_once(url, part, timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                if exc.code in (408, 429, 500, 502, 503, 504):
                    last = exc
                    continue
                if exc.code == 416:  # our Range is past the end: start again
                    part.unlink(missing_ok=True)
                    last = exc
                    continue
                raise DownloadError(f"{shown}: HTTP {exc.code} {exc.reason}") from None
            except _Incomplete as exc:  # connection dropped mid-file: keep .part, resume
                last = exc
                continue
            except _ChecksumMismatch as exc:
                part.unlink(missing_ok=True)
                last = exc
                continue
            except (urllib.error.URLError, OSError) as exc:
                if not _is_offline(exc):
                    raise
                last = exc
                continue
            os.replace(part, output_file)
            return
        if isinstance(last, _ChecksumMismatch):
            raise RegistryError(f"{shown}: {last} after {retries + 1} attempts; the server's copy may be corrupt")
        if isinstance(last, urllib.error.HTTPError):
            raise DownloadError(f"{shown}: HTTP {last.code} {last.reason} after {retries + 1} attempts")
        if isinstance(last, _Incomplete):
            raise OfflineError(
                f"{shown}: the connection kept dropping ({last}); partial data kept in {part}, rerun to resume"
            )
        reason = getattr(last, "reason", last)
        raise OfflineError(
            f"cannot reach {_host(shown)} ({type(reason).__name__}: {reason}); check the network connection "
            "(or use --cache-dir with tiles already downloaded)"
        )


def _md5(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="md5")


def _fetch_once(url: str, part: Path, *, timeout: float) -> str | None:
    """One HTTP GET into ``part`` (resuming it with Range); return the ETag."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        req.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only, checked by caller
        status = resp.status
        etag = resp.headers.get("ETag")
        if status == 206:
            m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != have:
                have = 0
                mode = "wb"
                total = None
            else:
                mode = "ab"
                total = int(m.group(3)) if m.group(3) != "*" else None
        else:
            have = 0
            mode = "wb"
            cl = resp.headers.get("Content-Length")
            total = int(cl) if cl is not None else None
        got = 0
        with open(part, mode) as f:
            try:
                while True:
                    block = resp.read(1 << 16)
                    if not block:
                        break
                    f.write(block)
                    got += len(block)
            except (OSError, http.client.IncompleteRead) as exc:
                raise _Incomplete(f"{got + have} bytes received: {exc}") from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Incomplete(f"{size} of {total} bytes received")
    if etag:
        tag = etag.strip('"')
        if re.fullmatch(r"[0-9a-fA-F]{32}", tag) and _md5(part) != tag.lower():
            raise _ChecksumMismatch(f"MD5 {_md5(part)} does not match the server's ETag {tag}")
    return etag


# --------------------------------------------------------------------------------------------
# fetching an area
# --------------------------------------------------------------------------------------------
def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="tile", desc=desc, leave=False)


def _read_tile(path: Path, source: str) -> np.ndarray:
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    try:
        with warnings.catch_warnings():  # XYZ tiles carry no georeferencing: it comes from z/x/y
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(path)
        with ds:
            if source == "terrarium":
                if ds.count < 3:
                    raise ValidationError(
                        f"{path}: a Terrarium tile must be an RGB PNG, this one has {ds.count} band(s)"
                    )
                return terrarium_decode(ds.read([1, 2, 3]))
            arr = ds.read(1, masked=True).astype(np.float32)
            return np.ma.filled(arr, np.nan)
    except RasterioIOError as exc:
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        raise RegistryError(f"{path}: cached tile is not a readable image ({exc}); it was removed, rerun") from exc


def fetch_dem(
    bbox: Sequence[float],
    *,
    output: str | os.PathLike[str],
    zoom: int = 12,
    source: str = "terrarium",
    cache_dir: str | os.PathLike[str] | None = None,
    url_template: str | None = None,
    crs: str = "EPSG:3857",
    overwrite: bool = False,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 0.5,
    max_tiles: int = 1024,
    workers: int = 4,
    progress: bool = False,
    demtype: str = "SRTMGL1",
    api_key: str | None = None,
    on_tile: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Download a DEM for a ``(W, S, E, N)`` box and write it as a GeoTIFF.

    Parameters
    ----------
    bbox
        West, south, east, north in degrees (WGS84).
    output
        GeoTIFF to write (refused if it exists, unless ``overwrite``).
    zoom
        Tile zoom (terrarium/geotiff), 0–15; default 12 (≈ 30 m at 40° N).
    source
        ``"terrarium"``, ``"geotiff"`` or ``"opentopography"``.
    cache_dir
        Tile cache (default :func:`default_cache_dir`).
    url_template
        Replace the source's URL (``{z}/{x}/{y}`` placeholders; for
        OpenTopography ``{demtype} {south} {north} {west} {east} {api_key}``).
    crs
        ``"EPSG:3857"`` (default: tiles as they are) or ``"EPSG:4326"`` (bilinear warp).
    timeout, retries, backoff
        Per-request timeout (s), retries after a failure, first back-off (s, doubled each retry).
    max_tiles
        Refuse larger requests (lower the zoom or shrink the box).
    workers
        Parallel downloads.
    progress
        Show a progress bar on stderr (tqdm, when installed).
    demtype, api_key
        OpenTopography dataset and key (default ``$OPENTOPOGRAPHY_API_KEY``).

    Returns
    -------
    dict
        ``output``, ``source``, ``zoom``, ``tiles``, ``downloaded``, ``cached``,
        ``bytes_downloaded``, ``crs``, ``shape``, ``resolution_m``, ``bounds``.
    """

    if source not in SOURCES:
        raise ValidationError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if crs not in ("EPSG:3857", "EPSG:4326"):
        raise ValidationError(f"crs must be EPSG:3857 or EPSG:4326, got {crs!r}")
    w, s, e, n = _check_bbox(bbox)
    output = Path(output)
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    if source == "opentopography":
        return _fetch_opentopography(
            (w, s, e, n), output=output, cache=cache, url_template=url_template, crs=crs, timeout=timeout,
            retries=retries, backoff=backoff, demtype=demtype, api_key=api_key,
        )

    template = url_template or (TERRARIUM_URL if source == "terrarium" else GEOTIFF_URL)
    if not template.startswith(("http://", "https://")):
        raise ValidationError(f"url_template must be an http(s) URL with {{z}}/{{x}}/{{y}}, got {template!r}")
    tiles = tiles_for_bbox((w, s, e, n), zoom)
    if len(tiles) > max_tiles:
        raise ValidationError(
            f"{len(tiles)} tiles at zoom {zoom} for this box (limit {max_tiles}); lower --zoom or shrink --bbox"
        )
    ext = "png" if source == "terrarium" else "tif"
    key = hashlib.sha256(template.encode()).hexdigest()[:10]
    root = cache / f"{source}-{key}"
    bar = _progress(len(tiles), progress, f"{source} z{zoom}")

    def one(t: tuple[int, int, int]) -> tuple[tuple[int, int, int], DownloadResult]:
        z, x, y = t
        res = download(fill_url_template(template, z=z, x=x, y=y), root / str(z) / str(x) / f"{y}.{ext}",
                       timeout=timeout, retries=retries, backoff=backoff)
        if bar is not None:
            bar.update(1)
        if on_tile is not None:
            on_tile(res)
        return t, res

    try:
        if workers > 1 and len(tiles) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(one, tiles))
        else:
            results = [one(t) for t in tiles]
    finally:
        if bar is not None:
            bar.close()

    z = tiles[0][0]
    xs = sorted({t[1] for t in tiles})
    ys = sorted({t[2] for t in tiles})
    first = _read_tile(results[0][1].path, source)
    ts = first.shape[0]
    mosaic = np.full((len(ys) * ts, len(xs) * ts), np.nan, dtype=np.float32)
    for (_, tx, ty), res in results:
        arr = first if res is results[0][1] else _read_tile(res.path, source)
        if arr.shape != (ts, ts):
            raise RegistryError(f"{res.path}: tile is {arr.shape}, expected {ts} × {ts} like the others")
        r0 = (ty - ys[0]) * ts
        c0 = (tx - xs[0]) * ts
        mosaic[r0 : r0 + ts, c0 : c0 + ts] = arr
    from affine import Affine

    left, _, _, top = tile_bounds_3857(z, xs[0], ys[0])
    px = 2 * _HALF_WORLD / 2**z / ts
    transform = Affine(px, 0, left, 0, -px, top)
    # crop to the bbox (plus one pixel)
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    bx0, by0 = tr.transform(w, s)
    bx1, by1 = tr.transform(e, n)
    c0 = max(0, int(math.floor((bx0 - left) / px)) - 1)
    c1 = min(mosaic.shape[1], int(math.ceil((bx1 - left) / px)) + 1)
    r0 = max(0, int(math.floor((top - by1) / px)) - 1)
    r1 = min(mosaic.shape[0], int(math.ceil((top - by0) / px)) + 1)
    mosaic = mosaic[r0:r1, c0:c1]
    transform = Affine(px, 0, left + c0 * px, 0, -px, top - r0 * px)
    out_crs = "EPSG:3857"
    lat_c = (s + n) / 2
    ground = px * math.cos(math.radians(lat_c))
    if crs == "EPSG:4326":
        mosaic, transform = _warp_to_4326(mosaic, transform, ground, lat_c)
        out_crs = "EPSG:4326"
    name = f"AWS Terrain Tiles ({source}, zoom {z})"
    tags = {
        "BORDERKIT_DEM_NAME": name,
        "BORDERKIT_DEM_KIND": "Terrarium",
        "BORDERKIT_VERTICAL_ACCURACY_NOTE": "mixed sources by zoom and region (SRTM, GMTED2010, ETOPO1, national "
        "DEMs), no single stated accuracy: https://github.com/tilezen/joerd/blob/master/docs/data-sources.md",
        "SOURCE_URL_TEMPLATE": template,
        "TILES": str(len(tiles)),
        "ZOOM": str(z),
        "BBOX_WSEN": json.dumps([w, s, e, n]),
        "ATTRIBUTION": "Terrain Tiles: Mapzen/Tilezen joerd on AWS Open Data; sources include SRTM (NASA), "
        "GMTED2010 (USGS), ETOPO1 (NOAA) and others",
    }
    _write(output, mosaic, transform, out_crs, tags, overwrite=overwrite)
    down = [r for _, r in results if not r.cached]
    return {
        "output": str(output),
        "source": source,
        "url_template": template,
        "zoom": z,
        "tiles": len(tiles),
        "downloaded": len(down),
        "cached": len(tiles) - len(down),
        "bytes_downloaded": int(sum(r.bytes for r in down)),
        "cache_dir": str(root),
        "crs": out_crs,
        "shape": list(mosaic.shape),
        "resolution_m": round(ground, 2),
        "bounds_wsen": [w, s, e, n],
        "method": "Terrarium RGB decoded as R*256 + G + B/256 - 32768 m" if source == "terrarium" else "GeoTIFF tiles",
    }


def _warp_to_4326(arr: np.ndarray, transform: Any, ground_m: float, lat: float) -> tuple[np.ndarray, Any]:
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject

    rows, cols = arr.shape
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * cols, top + transform.e * rows
    res_lat = ground_m / 111_320.0
    res_lon = ground_m / (111_320.0 * math.cos(math.radians(lat)))
    dst_t, w, h = calculate_default_transform(
        "EPSG:3857", "EPSG:4326", cols, rows, left, bottom, right, top, resolution=(res_lon, res_lat)
    )
    dst = np.full((h, w), np.nan, dtype=np.float32)
    reproject(arr, dst, src_transform=transform, src_crs="EPSG:3857", src_nodata=np.nan, dst_transform=dst_t,
              dst_crs="EPSG:4326", dst_nodata=np.nan, resampling=Resampling.bilinear)
    return dst, dst_t


def _write(output: Path, arr: np.ndarray, transform: Any, crs: str, tags: dict[str, str], *, overwrite: bool) -> None:
    import rasterio

    from borderkit.io.atomic import atomic_output

    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as tmp, rasterio.open(
        tmp, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="float32", crs=crs,
        transform=transform, nodata=np.nan, compress="deflate", predictor=3, tiled=True,
    ) as ds:
        ds.write(arr, 1)
        ds.update_tags(**tags)
        ds.set_band_description(1, "elevation (m above mean sea level)")


def _fetch_opentopography(
    bbox: tuple[float, float, float, float],
    *,
    output: Path,
    cache: Path,
    url_template: str | None,
    crs: str,
    timeout: float,
    retries: int,
    backoff: float,
    demtype: str,
    api_key: str | None,
) -> dict[str, Any]:
    import rasterio

    key = api_key or os.environ.get("OPENTOPOGRAPHY_API_KEY")
    if not key:
        raise ValidationError(
            "OpenTopography needs an API key: get a free one at https://portal.opentopography.org/requestService "
            "and set OPENTOPOGRAPHY_API_KEY"
        )
    w, s, e, n = bbox
    template = url_template or OPENTOPOGRAPHY_URL
    if not template.startswith(("http://", "https://")):
        raise ValidationError(f"url_template must be an http(s) URL, got {template!r}")
    url = fill_url_template(template, demtype=demtype, south=s, north=n, west=w, east=e, api_key=key)
    ident = hashlib.sha256(f"{demtype} {w} {s} {e} {n}".encode()).hexdigest()[:16]
    res = download(url, cache / "opentopography" / f"{demtype}-{ident}.tif", timeout=timeout, retries=retries,
                   backoff=backoff, redact=key)
    with rasterio.open(res.path) as ds:
        arr = np.ma.filled(ds.read(1, masked=True).astype(np.float32), np.nan)
        transform, src_crs = ds.transform, ds.crs
    tags = {"BORDERKIT_DEM_NAME": f"OpenTopography {demtype}",
            "BORDERKIT_DEM_KIND": "SRTM" if demtype.upper().startswith(("SRTM", "NASADEM")) else demtype,
            "SOURCE": "OpenTopography Global DEM API", "DEMTYPE": demtype, "BBOX_WSEN": json.dumps(list(bbox))}
    from borderkit._projection import is_wgs84_geographic

    if crs == "EPSG:3857" and is_wgs84_geographic(src_crs):
        crs_out = "EPSG:4326"  # keep the source grid: OpenTopography serves longitude/latitude
    else:
        crs_out = src_crs.to_string()
    _write(output, arr, transform, crs_out, tags, overwrite=True)
    return {"output": str(output), "source": "opentopography", "demtype": demtype, "tiles": 1,
            "downloaded": 0 if res.cached else 1, "cached": 1 if res.cached else 0,
            "bytes_downloaded": 0 if res.cached else res.bytes, "crs": crs_out, "shape": list(arr.shape),
            "bounds_wsen": list(bbox)}
