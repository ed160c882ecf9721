"""`import borderkit` stays light and never touches the network."""

import subprocess
import sys


def test_import_does_not_load_heavy_libraries():
    code = (
        "import sys, borderkit;"
        "heavy = [m for m in ('geopandas', 'pyproj', 'rasterio', 'folium', 'matplotlib', 'shapely', 'pandas')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_attributes_resolve():
    import borderkit

    assert callable(borderkit.read_claims)
    assert borderkit.datasets.DEFAULT_CASE == "armenia-azerbaijan"
    assert "read_lines" in dir(borderkit)


def test_py_typed_marker_is_shipped():
    from importlib.resources import files

    assert files("borderkit").joinpath("py.typed").is_file()
