"""Servers and load for the portal benchmarks: Debian packages installed when missing (as
bin/system-packages does), nginx with its own configuration on a free port (never the system service),
gunicorn with 2 sync workers, and wrk with a script that spreads requests over many paths and reports
p50/p95/p99."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

NGINX_CONF = """\
worker_processes 2;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {publish_root};
        # The production configuration of ADR 0006.
        location /site/ {{
            try_files $uri $uri/index.html =404;
            add_header Cache-Control "no-cache";
            etag on;
            location ~ /\\. {{ return 404; }}
        }}
        # The limit: the same bytes as one plain file, no try_files, no added header.
        location /plain/ {{
            alias {plain}/;
        }}
    }}
}}
"""

WRK_SCRIPT = """\
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%f %%f %%f %%f\\n",
    summary.requests, summary.duration, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.errors.status, 0,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def ensure_packages(*packages: str) -> None:
    """Install the Debian packages whose commands are missing (apt-get, as root or through sudo)."""
    commands = {"wrk": "wrk", "nginx": "nginx"}
    need = [
        p
        for p in packages
        if shutil.which(commands.get(p, p)) is None and not Path(f"/usr/sbin/{p}").exists()
    ]
    if not need:
        return
    if shutil.which("apt-get") is None:
        sys.exit(f"请安装 / please install: {' '.join(need)}")
    sudo: list[str] = [] if os.geteuid() == 0 else (["sudo"] if shutil.which("sudo") else [])
    if os.geteuid() != 0 and not sudo:
        sys.exit(f"请以 root 身份安装 / please install as root: {' '.join(need)}")
    print(f"  installing Debian packages: {' '.join(need)}")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *need],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Server:
    """A child process in its own process group, stopped (only it) on exit."""

    def __init__(
        self, args: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None, log: Path
    ):
        self.log = open(log, "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def nginx(run_dir: Path, publish_root: Path, plain_dir: Path) -> tuple[Server, int]:
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = run_dir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(run=run_dir, port=port, publish_root=publish_root, plain=plain_dir))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    server = Server([binary, "-c", str(conf), "-e", str(run_dir / "error.log")], log=run_dir / "nginx.out")
    return server, port


def gunicorn(
    python_bin: Path, app: str, *, env: dict[str, str], cwd: str, log: Path, workers: int = 2
) -> tuple[Server, int]:
    port = free_port()
    args = [
        str(python_bin), "-m", "gunicorn", app, "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    return Server(args, env=env, cwd=cwd, log=log), port


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    non2xx: int
    p50: float  # ms
    p95: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(
    base: str, paths: list[str], *, seconds: int, work_dir: Path, threads: int = 2, connections: int = 64
) -> Load:
    """wrk -t2 -c64 over the given paths (picked at random per request)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    listing = work_dir / f"paths-{abs(hash(tuple(paths[:50]))) % 10**8}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = work_dir / "spread.lua"
    script.write_text(WRK_SCRIPT % listing)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    f = line.split()[1:]
    return Load(
        requests=int(f[0]),
        seconds=int(f[1]) / 1e6,
        errors=int(f[2]),
        non2xx=int(f[3]),
        p50=float(f[5]) / 1000,
        p95=float(f[6]) / 1000,
        p99=float(f[7]) / 1000,
    )
