#!/usr/bin/env bash
# Install the peers of benchmarks/bench_api.py outside the repository.
#
#   bash benchmarks/setup_peers.sh            # default PEERS=/work/peers-venv
#   PEERS=/opt/peers PY312=python3.12 bash benchmarks/setup_peers.sh
#
# pygeoapi >= 0.22 needs Python >= 3.12 while the project runs on 3.11, so the
# peers live in their own virtual environments (one each, their pins differ):
#   $PEERS/pygeoapi  pygeoapi + gunicorn + GDAL's Python bindings (OGR provider,
#                    built against Debian's libgdal) + psycopg2/SQLAlchemy
#                    (PostgreSQL provider)
#   $PEERS/tipg      tipg + uvicorn
# and Debian's wrk is the load generator. Rerunning is cheap (pip skips what is
# installed). bench_api.py reads the versions from these environments.
set -euo pipefail

PEERS="${PEERS:-/work/peers-venv}"
PY312="${PY312:-}"
if [[ -z "$PY312" ]]; then
    for c in python3.13 python3.12 /root/.pyenv/versions/3.12.1/bin/python3.12; do
        if command -v "$c" >/dev/null 2>&1 \
            && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            PY312="$c"
            break
        fi
    done
fi
if [[ -z "$PY312" ]]; then
    echo "no Python >= 3.12 found: set PY312=/path/to/python3.12" >&2
    exit 1
fi

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v gdal-config >/dev/null 2>&1 || need_apt+=(libgdal-dev)
command -v gcc >/dev/null 2>&1 || need_apt+=(build-essential)
if ((${#need_apt[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "please install: ${need_apt[*]} (apt-get)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

make_venv() {
    local dir="$1"
    if [[ ! -x "$dir/bin/python" ]]; then
        "$PY312" -m venv "$dir"
    fi
    "$dir/bin/python" -m pip install -q --upgrade pip setuptools wheel
}

# --- pygeoapi -------------------------------------------------------------
make_venv "$PEERS/pygeoapi"
GDAL_VERSION="$(gdal-config --version)"
# The GDAL bindings must match the system library (built from source, ~2 min);
# numpy first so that the array helpers are built too.
"$PEERS/pygeoapi/bin/pip" install -q numpy
"$PEERS/pygeoapi/bin/pip" install -q --no-build-isolation "gdal==${GDAL_VERSION}"
"$PEERS/pygeoapi/bin/pip" install -q "pygeoapi>=0.22" gunicorn \
    psycopg2-binary "sqlalchemy>=2" geoalchemy2 pygeofilter shapely
"$PEERS/pygeoapi/bin/python" -c \
    'import pygeoapi, osgeo; print("pygeoapi", pygeoapi.__version__, "GDAL", osgeo.__version__)'

# --- tipg -----------------------------------------------------------------
make_venv "$PEERS/tipg"
"$PEERS/tipg/bin/pip" install -q "tipg>=1,<2" "uvicorn[standard]"
"$PEERS/tipg/bin/python" -c 'import tipg; print("tipg", tipg.__version__)'

echo "peers ready in $PEERS"
