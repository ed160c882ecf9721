"""The ``borderkit`` command line (click), one module per command."""
