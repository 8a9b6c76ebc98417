# Quartier — two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# the portal's map library, copied from node_modules by `npm ci` (no CDN)
VENDOR := src/quartier/web/static/vendor/maplibre-gl.js

.PHONY: demo test install lint typecheck prereqs bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(STAMP) $(VENDOR)

## Build the demo city (Kisenso, Kinshasa) into ./demo.gpkg
demo: $(STAMP) $(VENDOR)
	$(BIN)/quartier demo --db demo.gpkg

## The whole suite: lint, types, unit, contract (GeoPackage + PostGIS), corpus, CLI, API, browser
test: $(STAMP) $(VENDOR) prereqs lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

prereqs:
	@command -v ogrinfo >/dev/null || { echo "missing GDAL command-line tools: sudo apt-get install gdal-bin"; exit 1; }
	@command -v pg_dump >/dev/null || { echo "missing PostgreSQL client: sudo apt-get install postgresql-15-postgis-3"; exit 1; }
	@test -x "$${QUARTIER_CHROMIUM:-/usr/bin/chromium}" || { echo "missing Chromium for the browser tests: sudo apt-get install chromium"; exit 1; }

## Refresh the translation catalogue after changing user-facing strings
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -o src/quartier/locale/quartier.pot .
	$(BIN)/pybabel update -i src/quartier/locale/quartier.pot -d src/quartier/locale -D quartier -l en --no-fuzzy-matching

bench: $(STAMP)
	$(BIN)/python benchmarks/generate.py
	$(BIN)/python benchmarks/bench_import.py

clean:
	rm -rf $(VENV) demo.gpkg demo.gpkg-wal demo.gpkg-shm
