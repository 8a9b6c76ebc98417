"""`quartier demo` and `quartier serve` start the real server (one and two workers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

QUARTIER = str(Path(sys.executable).with_name("quartier"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_json(url: str, proc: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    pytest.fail(f"no answer from {url}")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIER_")}
    return subprocess.Popen(
        [QUARTIER, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_demo_builds_then_serves_the_city(tmp_path: Path) -> None:
    port = _port()
    proc = _start(
        "demo", "--db", "demo.gpkg", "--quiet", "--port", str(port), cwd=tmp_path
    )
    try:
        collections = _wait_json(
            f"http://127.0.0.1:{port}/ogc/collections?f=json", proc
        )
        ids = {c["id"] for c in collections["collections"]}
        assert {"batiments", "routes", "erosions", "sante", "ecoles"} <= ids
        # the portal, in French, with the city's layers on its map
        root = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(root + "/", timeout=10) as r:
            home = r.read().decode()
        assert '<html lang="fr">' in home and "Kisenso" in home
        config = _wait_json(root + "/carte/config", proc)
        assert {"batiments", "routes", "unites_admin"} <= {
            layer["slug"] for layer in config["layers"]
        }
        with urllib.request.urlopen(root + "/static/vendor/maplibre-gl.js") as r:
            assert r.status == 200
    finally:
        _stop(proc)


def test_serve_with_two_workers(demo_gpkg: str, tmp_path: Path) -> None:
    port = _port()
    proc = _start(
        "serve", "--db", demo_gpkg, "--port", str(port), "--workers", "2", cwd=tmp_path
    )
    try:
        landing = _wait_json(f"http://127.0.0.1:{port}/ogc?f=json", proc)
        assert any(link["rel"] == "conformance" for link in landing["links"])
        items = _wait_json(
            f"http://127.0.0.1:{port}/ogc/collections/marches/items?f=json", proc
        )
        assert len(items["features"]) == 7
    finally:
        _stop(proc)
