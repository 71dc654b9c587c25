"""A real server (gunicorn) on a file SQLite database: a case advanced over HTTP survives the server being
killed (SIGKILL, twice, once in the middle of a countersign) and is completed by the restarted server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Zw-Test-Passw0rd!"

SETUP = """
from django.core.management import call_command
from zhengwu.core.models import UnitRole
from zhengwu.testing.cast import _staff, build_cast

cast = build_cast()
a1 = cast.township_a1_gov
_staff("kt_reviewer", "钱审核", a1, "审核员", ["reviewer"])
_staff("kt_reviewer2", "孙审核", a1, "审核员二", ["reviewer"])
UnitRole.objects.create(user=cast.county_b_clerk, unit=cast.county_b_gov, role="reviewer")
call_command("load_processes", verbosity=0)
print("units", cast.city_gov.pk, cast.county_a_gov.pk, cast.county_b_gov.pk, a1.pk)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving zhengwu in its own process group (so a kill takes the workers too)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "zhengwu.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--threads",
                    "2",
                    "--graceful-timeout",
                    "1",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Not listening yet: keep polling until the deadline.
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, nothing flushed — a crash, not a restart."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the workers notice their master is gone and the port frees up
            try:
                requests.get(f"{self.url}/healthz", timeout=0.5)
            except requests.RequestException:
                return
            time.sleep(0.2)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, list[int], Path]]:
    db = tmp_path / "zhengwu.sqlite3"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="zhengwu.settings",
        ZHENGWU_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{db}",
        ZHENGWU_TESTING="1",
        DEBUG="0",
        PYTHONPATH=str(ROOT),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    units = [int(x) for x in re.search(r"units ([\d ]+)", setup.stdout).group(1).split()]  # type: ignore[union-attr]
    srv = Server(env, _free_port(), tmp_path / "gunicorn.log")
    srv.start()
    try:
        yield srv, units, db
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            os.killpg(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait(timeout=10)


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, (url, page.status_code)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, url
    return match.group(1)


def _post(
    session: requests.Session, base: str, page: str, action: str, data: dict[str, Any]
) -> requests.Response:
    token = _csrf(session, base + page)
    response = session.post(
        base + action,
        data={"csrfmiddlewaretoken": token, **data},
        headers={"Referer": base + page},
        allow_redirects=False,
        timeout=20,
    )
    assert response.status_code in (302, 303), (action, response.status_code, response.text[-2000:])
    return response


def _sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    response = _post(
        session, base, "/accounts/login/", "/accounts/login/", {"username": username, "password": PASSWORD}
    )
    assert "/workbench/" in response.headers["Location"]
    return session


def _my_task(session: requests.Session, base: str, title_start: str) -> int:
    page = session.get(f"{base}/flow/", timeout=10).text
    match = re.search(r'href="/flow/tasks/(\d+)/"[^>]*>' + re.escape(title_start), page)
    assert match, f"no to-do {title_start!r} in:\n{page[-3000:]}"
    return int(match.group(1))


def _do(
    session: requests.Session, base: str, title_start: str, data: dict[str, str], *, claim: bool = False
) -> None:
    task_id = _my_task(session, base, title_start)
    page = f"/flow/tasks/{task_id}/"
    if claim:
        _post(session, base, page, f"{page}claim/", {})
    _post(session, base, page, f"{page}complete/", data)


def _instance_row(db: Path) -> tuple[str, str]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT status, current_steps FROM flow_processinstance").fetchone()
    assert row is not None
    return row[0], row[1]


def test_it_survives_a_killed_server_and_completes_after_restart(
    server: tuple[Server, list[int], Path],
) -> None:
    srv, (city, county_a, county_b, township_a1), db = server
    base = srv.url
    clerk = _sign_in(base, "city_clerk")
    started = _post(
        clerk,
        base,
        "/flow/sample/",
        "/flow/sample/",
        {
            "title": "重启测试办件",
            "applicant": "某公司",
            "lead": city,
            "dept_1": county_a,
            "dept_2": county_b,
            "dept_3": township_a1,
        },
    )
    instance_url = base + started.headers["Location"]
    _do(clerk, base, "受理：重启测试办件", {"materials": "complete", "opinion": "材料齐全"}, claim=True)
    assert _instance_row(db)[0] == "running"

    # Crash the server while three departments are countersigning.
    srv.kill()
    with pytest.raises(requests.RequestException):
        clerk.get(instance_url, timeout=2)
    srv.start()
    # Sessions are in the database: the clerk is still signed in, and the case is where it was.
    page = clerk.get(instance_url, timeout=10).text
    assert "部门一会签" in page and "部门二会签" in page and "部门三会签" in page

    _do(_sign_in(base, "kd_reviewer"), base, "部门一会签", {"vote_1": "agree", "opinion": "同意"})
    _do(_sign_in(base, "kt_reviewer"), base, "部门三会签", {"vote_3": "agree", "opinion": "同意"})

    # Again, in the middle of township A1's countersign (one of its two reviewers has signed).
    srv.kill()
    srv.start()
    _do(_sign_in(base, "jc_clerk"), base, "部门二会签", {"vote_2": "agree", "opinion": "同意"})
    _do(_sign_in(base, "kt_reviewer2"), base, "部门三会签", {"vote_3": "agree", "opinion": "同意"})
    assert _instance_row(db) == ("running", "签发")
    _do(_sign_in(base, "city_leader"), base, "签发：重启测试办件", {"opinion": "同意"}, claim=True)

    assert _instance_row(db) == ("completed", "")
    assert "已办结" in clerk.get(instance_url, timeout=10).text
    with sqlite3.connect(db) as conn:
        done = conn.execute(
            "SELECT step_id FROM flow_task WHERE status = 'completed' ORDER BY completed_at"
        ).fetchall()
    assert [s for (s,) in done] == ["accept", "review_1", "review_3", "review_2", "review_3", "sign_off"]
