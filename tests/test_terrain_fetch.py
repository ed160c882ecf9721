"""``dem fetch`` against a local HTTP server serving real Terrarium tiles made from the DTED0 test DEM.

Never touches the internet: the server listens on 127.0.0.1, and the shared
conftest blocks every other address.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
from click.testing import CliRunner  # noqa: E402

from borderkit.errors import OfflineError, OutputExistsError, RegistryError, ValidationError  # noqa: E402
from borderkit.terrain.dem import open_dem  # noqa: E402
from borderkit.terrain.fetch import (  # noqa: E402
    DownloadError,
    download,
    fetch_dem,
    terrarium_decode,
    terrarium_encode,
    tile_bounds_3857,
    tiles_for_bbox,
)
from borderkit.terrain.hillshade import encode_png  # noqa: E402

BBOX = (46.10, 39.50, 46.30, 39.65)
ZOOM = 10


# --- tiles made from the real DTED0 DEM --------------------------------------------------------
def make_tile(dem, z, x, y, size=256) -> tuple[bytes, np.ndarray]:
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    left, bottom, right, top = tile_bounds_3857(z, x, y)
    px = (right - left) / size
    dst = np.full((size, size), np.nan, dtype=np.float32)
    reproject(
        dem.data,
        dst,
        src_transform=dem.transform,
        src_crs=dem.crs,
        src_nodata=np.nan,
        dst_transform=Affine(px, 0, left, 0, -px, top),
        dst_crs="EPSG:3857",
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    dst = np.nan_to_num(dst, nan=0.0)
    return encode_png(terrarium_encode(dst)), dst


@pytest.fixture(scope="module")
def tiles():
    dem = open_dem(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent, bbox=(45.5, 39.0, 47.0, 40.0))
    out = {}
    for z, x, y in tiles_for_bbox(BBOX, ZOOM):
        png, arr = make_tile(dem, z, x, y)
        out[f"/terrarium/{z}/{x}/{y}.png"] = (png, arr)
    return dem, out


class Server:
    """A tile server on 127.0.0.1 with Range support, S3-style MD5 ETags and injectable faults."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.requests: list[tuple[str, str | None]] = []
        self.drop_once: set[str] = set()  # send half the body, then close the connection
        self.bad_etag: set[str] = set()  # advertise a wrong MD5
        self.slow: float = 0.0
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # keep pytest output clean
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                path = self.path.split("?")[0]
                rng = self.headers.get("Range")
                srv.requests.append((path, rng))
                if srv.slow:
                    time.sleep(srv.slow)
                body = srv.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = hashlib.md5(body).hexdigest()
                if path in srv.bad_etag:
                    etag = "0" * 32
                start = 0
                if rng:
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if path in srv.drop_once:
                    srv.drop_once.discard(path)
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body[start:])

        class QuietServer(http.server.ThreadingHTTPServer):
            # a client that hangs up (the timeout tests) makes the handler thread raise
            # BrokenPipeError; the default handle_error prints that traceback to stderr, where
            # it lands in whatever CliRunner invocation is capturing stderr at that moment
            def handle_error(self, request, client_address):
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/terrarium/{{z}}/{{x}}/{{y}}.png"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tiles, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = Server({k: v[0] for k, v in tiles[1].items()})
    yield srv
    srv.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- tests -------------------------------------------------------------------------------------
def test_terrarium_round_trip():
    z = np.array([[-32768.0, -10.5, 0.0], [1234.56, 3550.0, 8848.86]])
    rgb = terrarium_encode(z)
    back = terrarium_decode(np.moveaxis(rgb, 2, 0))
    np.testing.assert_allclose(back, z, atol=1 / 512)
    # the published example: R=128 G=0 B=0 is 0 m
    assert terrarium_decode(np.array([[[128]], [[0]], [[0]]])) == 0.0


def test_tile_arithmetic():
    assert tiles_for_bbox((-180, -85, 180, 85), 0) == [(0, 0, 0)]
    left, bottom, right, _ = tile_bounds_3857(1, 1, 0)
    assert left == pytest.approx(0) and bottom == pytest.approx(0) and right == pytest.approx(20037508.342789244)
    assert len(tiles_for_bbox(BBOX, ZOOM)) >= 1
    with pytest.raises(ValidationError, match="W < E"):
        tiles_for_bbox((46.3, 39.5, 46.1, 39.6), 10)


def test_fetch_mosaics_real_tiles(server, tiles, tmp_path):
    dem, tile_arrays = tiles
    out = tmp_path / "fetched.tif"
    res = fetch_dem(
        BBOX, output=out, zoom=ZOOM, cache_dir=tmp_path / "cache", url_template=server.template, retries=1, backoff=0.01
    )
    assert res["tiles"] == len(tile_arrays) and res["downloaded"] == res["tiles"] and res["cached"] == 0
    d = open_dem(out)
    assert d.crs.to_epsg() == 3857 and d.kind == "Terrarium"
    # every pixel equals the tile pixel the server encoded (to the 1/256 m Terrarium step)
    with rasterio.open(out) as ds:
        arr = ds.read(1)
        t = ds.transform
    ((path, (_, tile)),) = list(tile_arrays.items())[:1]
    z, x, y = (int(v) for v in path.removesuffix(".png").split("/")[-3:])
    left, _, _, top = tile_bounds_3857(z, x, y)
    c0 = round((left - t.c) / t.a)
    r0 = round((t.f - top) / -t.e)
    rs, cs = slice(max(0, r0), min(arr.shape[0], r0 + 256)), slice(max(0, c0), min(arr.shape[1], c0 + 256))
    np.testing.assert_allclose(
        arr[rs, cs], tile[rs.start - r0 : rs.stop - r0, cs.start - c0 : cs.stop - c0], atol=1 / 256
    )
    # and heights agree with the DTED0 DEM they were made from (bilinear both ways, within a few metres)
    lon, lat = np.meshgrid(np.linspace(46.12, 46.28, 9), np.linspace(39.52, 39.63, 7))
    diff = d.sample(lon.ravel(), lat.ravel()) - dem.sample(lon.ravel(), lat.ravel())
    assert np.nanmax(np.abs(diff)) < 40 and abs(np.nanmean(diff)) < 5


def test_cache_hit_makes_no_request(server, tmp_path):
    kw = dict(zoom=ZOOM, cache_dir=tmp_path / "cache", url_template=server.template, retries=0)
    fetch_dem(BBOX, output=tmp_path / "a.tif", **kw)
    n = len(server.requests)
    res = fetch_dem(BBOX, output=tmp_path / "b.tif", **kw)
    assert len(server.requests) == n
    assert res["downloaded"] == 0 and res["cached"] == res["tiles"]
    np.testing.assert_array_equal(open_dem(tmp_path / "a.tif").data, open_dem(tmp_path / "b.tif").data)


def test_resume_after_a_dropped_connection(server, tiles, tmp_path):
    path = next(iter(tiles[1]))
    server.drop_once.add(path)
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    dest = tmp_path / "t.png"
    res = download(server.template.format(z=z, x=x, y=y), dest, retries=2, backoff=0.01)
    assert dest.read_bytes() == tiles[1][path][0] and not res.cached
    ranges = [r for p, r in server.requests if p == path]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")
    assert int(ranges[1].split("=")[1].rstrip("-")) == len(tiles[1][path][0]) // 2
    meta = json.loads(dest.with_name("t.png.json").read_text())
    assert meta["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest() and meta["bytes"] == dest.stat().st_size


def test_resume_of_a_part_file_left_by_an_earlier_run(server, tiles, tmp_path):
    path = next(iter(tiles[1]))
    body = tiles[1][path][0]
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    dest = tmp_path / "t.png"
    dest.with_name("t.png.part").write_bytes(body[:1000])
    download(server.template.format(z=z, x=x, y=y), dest, retries=0)
    assert dest.read_bytes() == body
    assert server.requests[-1][1] == "bytes=1000-"


def test_bad_checksum_from_the_server_is_refused(server, tiles, tmp_path):
    path = next(iter(tiles[1]))
    server.bad_etag.add(path)
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    dest = tmp_path / "t.png"
    with pytest.raises(RegistryError, match="MD5"):
        download(server.template.format(z=z, x=x, y=y), dest, retries=1, backoff=0.01)
    assert not dest.exists() and not dest.with_name("t.png.part").exists()


def test_corrupted_cache_is_downloaded_again(server, tiles, tmp_path):
    path = next(iter(tiles[1]))
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    url = server.template.format(z=z, x=x, y=y)
    dest = tmp_path / "t.png"
    download(url, dest, retries=0)
    blob = bytearray(dest.read_bytes())
    blob[100] ^= 0xFF  # same size, different bytes
    dest.write_bytes(bytes(blob))
    n = len(server.requests)
    res = download(url, dest, retries=0)
    assert not res.cached and len(server.requests) == n + 1
    assert dest.read_bytes() == tiles[1][path][0]


def test_offline_is_one_clear_error(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/terrarium/{{z}}/{{x}}/{{y}}.png"
    with pytest.raises(OfflineError) as info:
        fetch_dem(
            BBOX,
            output=tmp_path / "x.tif",
            zoom=ZOOM,
            cache_dir=tmp_path / "c",
            url_template=url,
            retries=1,
            backoff=0.01,
        )
    msg = str(info.value)
    assert "\n" not in msg and "cannot reach 127.0.0.1" in msg and "network" in msg
    assert not (tmp_path / "x.tif").exists()


def test_timeout_is_offline(server, tiles, tmp_path):
    server.slow = 1.0
    path = next(iter(tiles[1]))
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    with pytest.raises(OfflineError, match="cannot reach"):
        download(server.template.format(z=z, x=x, y=y), tmp_path / "t.png", timeout=0.2, retries=0)


def test_missing_tile_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.template.format(z=3, x=1, y=1), tmp_path / "t.png", retries=0)


def test_too_many_tiles_and_overwrite(server, tmp_path):
    with pytest.raises(ValidationError, match="lower --zoom"):
        fetch_dem(
            BBOX, output=tmp_path / "x.tif", zoom=15, url_template=server.template, max_tiles=10, cache_dir=tmp_path
        )
    (tmp_path / "exists.tif").write_bytes(b"")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        fetch_dem(BBOX, output=tmp_path / "exists.tif", zoom=ZOOM, url_template=server.template, cache_dir=tmp_path)


def test_warp_to_4326(server, tmp_path):
    out = tmp_path / "ll.tif"
    res = fetch_dem(
        BBOX, output=out, zoom=ZOOM, cache_dir=tmp_path / "c", url_template=server.template, crs="EPSG:4326"
    )
    d = open_dem(out)
    assert d.is_lonlat and res["crs"] == "EPSG:4326"
    w, s, e, n = d.bounds
    assert w <= BBOX[0] and e >= BBOX[2] and s <= BBOX[1] and n >= BBOX[3]


def test_opentopography_needs_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENTOPOGRAPHY_API_KEY", raising=False)
    with pytest.raises(ValidationError, match="OPENTOPOGRAPHY_API_KEY"):
        fetch_dem(BBOX, output=tmp_path / "o.tif", source="opentopography", cache_dir=tmp_path)


def test_opentopography_with_a_key_against_the_local_server(monkeypatch, tmp_path, tiles):
    dem = tiles[0]
    src = dem.subset(BBOX).to_geotiff(tmp_path / "srtm.tif")
    srv = Server({"/API/globaldem": Path(src).read_bytes()})
    monkeypatch.setenv("OPENTOPOGRAPHY_API_KEY", "secret-key")
    try:
        tpl = (
            f"http://127.0.0.1:{srv.port}/API/globaldem?demtype={{demtype}}&south={{south}}&north={{north}}"
            "&west={west}&east={east}&outputFormat=GTiff&API_Key={api_key}"
        )
        res = fetch_dem(
            BBOX, output=tmp_path / "o.tif", source="opentopography", url_template=tpl, cache_dir=tmp_path / "c"
        )
        assert res["downloaded"] == 1
        side = next((tmp_path / "c" / "opentopography").glob("*.json"))
        assert "secret-key" not in side.read_text()  # the key is not written to the cache
        assert open_dem(tmp_path / "o.tif").sample(46.2, 39.55) == pytest.approx(dem.sample(46.2, 39.55), abs=0.01)
    finally:
        srv.close()


def test_cli_fetch_and_offline_exit_code(server, tmp_path, monkeypatch):
    from borderkit.cli import main

    monkeypatch.setitem(main.COMMANDS, "dem", "borderkit.cli.dem_cmd:dem")
    runner = CliRunner()
    out = tmp_path / "cli.tif"
    args = [
        "dem",
        "fetch",
        "--bbox",
        *map(str, BBOX),
        "--zoom",
        str(ZOOM),
        "--cache-dir",
        str(tmp_path / "c"),
        "--url-template",
        server.template,
        "-o",
        str(out),
        "--json",
    ]
    r = runner.invoke(main.cli, args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["tiles"] >= 1 and Path(doc["output"]) == out
    r = runner.invoke(main.cli, args)
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = runner.invoke(
        main.cli,
        [
            *args[:-3],
            "-o",
            str(tmp_path / "off.tif"),
            "--url-template",
            f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png",
            "--retries",
            "0",
        ],
    )
    assert r.exit_code == main.EXIT_OFFLINE
    assert r.output.count("\n") == 1 and "cannot reach" in r.output


def test_changed_server_file_replaces_a_corrupted_cache(server, tiles, tmp_path, caplog):
    """Cached copy corrupted *and* the server's file changed: the new file is taken and recorded, quietly."""
    path = next(iter(tiles[1]))
    z, x, y = path.removesuffix(".png").split("/")[-3:]
    url = server.template.format(z=z, x=x, y=y)
    dest = tmp_path / "t.png"
    download(url, dest, retries=0)
    dest.write_bytes(b"x" * dest.stat().st_size)  # same size, other bytes
    new_body = encode_png(np.full((4, 4, 3), 7, dtype=np.uint8))
    server.files[path] = new_body
    with caplog.at_level("INFO", logger="pooch"):
        res = download(url, dest, retries=0)
    assert not res.cached and dest.read_bytes() == new_body
    meta = json.loads(dest.with_name("t.png.json").read_text())
    assert meta["sha256"] == hashlib.sha256(new_body).hexdigest() and meta["bytes"] == len(new_body)
    assert not [r for r in caplog.records if r.name == "pooch" and r.levelno < 30]  # pooch's INFO lines silenced


def test_url_template_is_not_a_format_string():
    """A user's --url-template is data: only bare {z}/{x}/{y} placeholders are replaced."""
    from borderkit.errors import ValidationError
    from borderkit.terrain.fetch import fill_url_template

    assert fill_url_template("https://t.test/{z}/{x}/{y}.png", z=7, x=80, y=48) == "https://t.test/7/80/48.png"
    for hostile in ("https://t.test/{z.__class__}/{x}/{y}", "https://t.test/{z}/{x}/{y}/{0}",
                    "https://t.test/{x[0]}/{y}", "https://t.test/{api_key}/{z}/{x}/{y}"):
        with pytest.raises(ValidationError, match="url_template"):
            fill_url_template(hostile, z=7, x=80, y=48)
