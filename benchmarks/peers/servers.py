"""The servers of ``bench_api.py``: how to start each, and its URLs.

Every server gets 2 worker processes and listens on loopback; one runs at a
time. The peers run from their own virtual environments
(``benchmarks/setup_peers.sh``, default ``/work/peers-venv``):

* ``pygeoapi-gpkg``: pygeoapi under gunicorn (2 sync workers, the WSGI
  server of its docs and Docker image; gevent workers would not help, the OGR
  and psycopg2 calls block), OGR provider on the source GeoPackage with
  ``source_capabilities: paging: true`` (without it ``offset`` is ignored);
* ``pygeoapi-pg``: the same with its PostgreSQL provider (defaults: it counts
  the matches of every page);
* ``tipg``: ``uvicorn tipg.main:app --workers 2`` on the peers' database;
* ``quartier-gpkg`` / ``quartier-pg``: ``quartier serve --workers 2``.

Each server's stdout/stderr go to ``out/work/<name>.log``. Processes start
in a session of their own and are stopped by that process group's id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from load import wait_idle

from .data import LAYER, PG, ROOT, WORK, peers_db, pg_url, quartier_db, quartier_gpkg

PEERS = Path(os.environ.get("PEERS", "/work/peers-venv"))
QUARTIER = ROOT / ".venv" / "bin" / "quartier"
BBox = tuple[float, float, float, float]


@dataclass
class Server:
    name: str
    label: str
    ours: bool
    store: str  # "gpkg" | "postgis"
    port: int
    collection: str
    prefix: str = ""
    #: extra query parameters of JSON item requests
    fmt: dict[str, str] = field(default_factory=dict)
    tiles: bool = False
    #: TileJSON below .../tiles/WebMercatorQuad (tipg: /tilejson.json)
    tilejson_suffix: str = ""
    #: its PostgreSQL database (to wait for its queries to end), if any
    db: str | None = None
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    # ---------------------------------------------------------------- URLs
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _coll(self) -> str:
        return f"{self.prefix}/collections/{self.collection}"

    def items(
        self, *, bbox: BBox | None = None, limit: int = 100, offset: int | None = None
    ) -> str:
        q: dict[str, str] = dict(self.fmt)
        if bbox is not None:
            q["bbox"] = ",".join(f"{v:.6f}" for v in bbox)
        q["limit"] = str(limit)
        if offset is not None:
            q["offset"] = str(offset)
        return f"{self._coll()}/items?{urlencode(q, safe=',')}"

    def item(self, fid: int) -> str:
        q = f"?{urlencode(self.fmt)}" if self.fmt else ""
        return f"{self._coll()}/items/{fid}{q}"

    def tile(self, z: int, x: int, y: int) -> str:
        return f"{self._coll()}/tiles/WebMercatorQuad/{z}/{x}/{y}"

    def tilejson(self) -> str:
        return f"{self._coll()}/tiles/WebMercatorQuad{self.tilejson_suffix}"

    def ready_path(self) -> str:
        # the collection's own document (tipg's f=geojson is for items only)
        return f"{self._coll()}?f=json"

    # ----------------------------------------------------------- lifecycle
    def start(self, timeout: float = 120.0) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        log = open(WORK / f"{self.name}.log", "ab")  # noqa: SIM115 - kept by Popen
        log.write(f"\n=== start {time.ctime()} {' '.join(self.cmd)}\n".encode())
        log.flush()
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=WORK,  # tipg and pydantic-settings read a .env from the cwd
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        url = self.base + self.ready_path()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.proc.returncode}); see "
                    f"{WORK / (self.name + '.log')}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"{self.name} not ready at {url} after {timeout:.0f} s")
        # one worker answering does not mean both have started: wait until
        # the whole tree is idle (starting a worker is importing, CPU-bound)
        wait_idle(self.proc.pid, timeout=timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid  # its own session: the group id is its pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait()
        # workers may outlive the master by a moment
        for _ in range(50):
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.proc = None

    def worker_pids(self) -> list[int]:
        """The worker processes under the master (uvicorn or gunicorn)."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_bytes()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
            if ppid == self.proc.pid and b"resource_tracker" not in cmd:
                found.append(int(entry.name))
        return sorted(found)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


# ------------------------------------------------------------------ pygeoapi
def _pygeoapi_config(
    name: str, port: int, provider: dict[str, object], extent: BBox
) -> tuple[Path, Path]:
    cfg = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "pretty_print": False,
            # max_items defaults to 10 (and silently throttles limit=100)
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "OpenStreetMap",
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench_api peer",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": "http://127.0.0.1",
            },
            "license": {"name": "CC0", "url": "https://example.org/cc0"},
            "provider": {"name": "bench", "url": "https://example.org"},
            # the OpenAPI generator reads these keys unconditionally
            "contact": {
                k: "bench"
                for k in (
                    "name position address city stateorprovince postalcode country"
                    " phone fax email url hours instructions role"
                ).split()
            },
        },
        "resources": {
            LAYER: {
                "type": "collection",
                "title": "buildings",
                "description": "generated building footprints",
                "keywords": ["buildings"],
                "extents": {
                    "spatial": {
                        "bbox": list(extent),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [{"type": "feature", **provider}],
            }
        },
    }
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{name}.config.yml"
    path.write_text(json.dumps(cfg, indent=1))  # JSON is YAML
    openapi = WORK / f"{name}.openapi.yml"
    subprocess.run(
        [
            str(PEERS / "pygeoapi" / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(path),
            "--output-file",
            str(openapi),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYGEOAPI_CONFIG": str(path)},
    )
    return path, openapi


def pygeoapi(name: str, port: int, provider: dict[str, object], extent: BBox) -> Server:
    cfg, openapi = _pygeoapi_config(name, port, provider, extent)
    return Server(
        name=name,
        label="",
        ours=False,
        store="",
        port=port,
        collection=LAYER,
        fmt={"f": "json"},
        cmd=[
            str(PEERS / "pygeoapi" / "bin" / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
            "pygeoapi.flask_app:APP",
        ],
        env={"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi)},
    )


def all_servers(n: int, source: Path, extent: BBox, base_port: int) -> list[Server]:
    """The five servers, in the order they run."""
    servers: list[Server] = []
    gp = pygeoapi(
        "pygeoapi-gpkg",
        base_port,
        {
            "name": "OGR",
            "data": {
                "source_type": "GPKG",
                "source": str(source),
                "source_capabilities": {"paging": True},
            },
            "id_field": "fid",
            "layer": LAYER,
        },
        extent,
    )
    gp.label, gp.store = "pygeoapi · OGR GeoPackage", "gpkg"
    servers.append(gp)
    pp = pygeoapi(
        "pygeoapi-pg",
        base_port + 1,
        {
            "name": "PostgreSQL",
            "data": {
                "host": PG["host"],
                "port": PG["port"],
                "dbname": peers_db(n),
                "user": PG["user"],
                "password": PG["password"],
                "search_path": ["public"],
            },
            "id_field": "fid",
            "table": LAYER,
            "geom_field": "geom",
        },
        extent,
    )
    pp.label, pp.store, pp.db = "pygeoapi · PostgreSQL", "postgis", peers_db(n)
    servers.append(pp)
    servers.append(
        Server(
            name="tipg",
            label="tipg · PostGIS",
            ours=False,
            store="postgis",
            port=base_port + 2,
            collection=f"public.{LAYER}",
            fmt={"f": "geojson"},
            tiles=True,
            tilejson_suffix="/tilejson.json",
            db=peers_db(n),
            cmd=[
                str(PEERS / "tipg" / "bin" / "uvicorn"),
                "tipg.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(base_port + 2),
                "--workers",
                "2",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={
                "DATABASE_URL": pg_url(peers_db(n)),
                "TIPG_DB_SCHEMAS": '["public"]',
            },
        )
    )
    for i, (store, db) in enumerate(
        (("gpkg", str(quartier_gpkg(n))), ("postgis", pg_url(quartier_db(n))))
    ):
        port = base_port + 3 + i
        servers.append(
            Server(
                name=f"quartier-{'gpkg' if store == 'gpkg' else 'pg'}",
                label=f"Quartier · {'GeoPackage' if store == 'gpkg' else 'PostGIS'}",
                ours=True,
                store=store,
                port=port,
                collection=LAYER,
                prefix="/ogc",
                fmt={"f": "json"},
                tiles=True,
                db=quartier_db(n) if store == "postgis" else None,
                cmd=[
                    str(QUARTIER),
                    "serve",
                    "--workers",
                    "2",
                    "--db",
                    db,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
            )
        )
    return servers
