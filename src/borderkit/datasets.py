"""Bundled case data and its registry: the public name user code imports.

``borderkit.datasets`` keeps the API it always had — :func:`load`, :class:`Case`,
:func:`data_dir`, :func:`registry`, :func:`names`, :func:`info`, :func:`verify`,
:data:`DEFAULT_CASE` — by re-exporting them from their homes:
:mod:`borderkit.registry` (the data folder, ``registry.json``, sha256 checks) and
:mod:`borderkit.cases` (reading a case's layers and its case file). New library
code imports from those modules directly; lower layers import only
:mod:`borderkit.registry`.

Examples
--------
>>> import borderkit
>>> case = borderkit.datasets.load("armenia-azerbaijan")   # doctest: +SKIP
>>> case.lines.source.unique()                             # doctest: +SKIP
>>> case.config.pair                                       # doctest: +SKIP
('ARM', 'AZE')
"""

from __future__ import annotations

from borderkit.cases import Case, CaseConfig, case_config, load, read_case_file
from borderkit.registry import DEFAULT_CASE, data_dir, info, names, registry, verify

__all__ = [
    "data_dir",
    "registry",
    "names",
    "info",
    "verify",
    "load",
    "Case",
    "CaseConfig",
    "read_case_file",
    "case_config",
    "DEFAULT_CASE",
]
