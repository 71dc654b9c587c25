"""The `zhengwu` command line: bilingual help, `audit verify` exit status, `serve` really serving."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from zhengwu.cli import main
from zhengwu.core.audit import audit_record
from zhengwu.core.models import AuditEvent

ROOT = Path(__file__).resolve().parents[3]
ADMIN_PASSWORD = "Zw-Cli-Check-2024!long"


def _env(data_dir: Path) -> dict[str, str]:
    """A clean embedded environment on its own data directory (never the test run's database)."""
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGWU_", "PYTEST_")) and k not in drop}
    env.update(ZHENGWU_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def _zhengwu(env: dict[str, str], *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zhengwu.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated embedded database for the subprocess tests of this module."""
    path = tmp_path_factory.mktemp("zw-cli")
    done = _zhengwu(_env(path), "manage", "migrate", "--no-input", "-v", "0")
    assert done.returncode == 0, done.stderr
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["audit", "--help"]])
def test_it_prints_help_in_chinese_and_english(argv: list[str]) -> None:
    result = _zhengwu(_env(Path("/nonexistent-unused")), *argv, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "用法 / usage:" in out
    assert "选项 / options" in out
    assert "显示本帮助并退出 / show this help and exit" in out
    if argv == ["--help"]:
        for chinese, english in [
            ("启动网站与后台任务", "serve the site and the task worker"),
            ("生成演示城市", "build the demo city"),
            ("留痕链校验与清理", "the tamper-evident trail"),
            ("创建平台管理员", "create a platform administrator"),
        ]:
            assert chinese in out and english in out
    if argv == ["audit", "--help"]:
        assert "0 链条完整 intact" in out and "1 发现篡改" in out


def test_it_exits_2_with_a_clear_message_for_an_unknown_command() -> None:
    result = _zhengwu(_env(Path("/nonexistent-unused")), "no-such-command", timeout=60)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_it_verifies_the_trail_with_exit_status_0_then_1_after_an_edit(data_dir: Path) -> None:
    env = _env(data_dir)
    for username in ("cli_sys", "cli_audit"):
        made = _zhengwu(
            env,
            "manage",
            "createadmin",
            "--username",
            username,
            "--name",
            username,
            "--role",
            "audit_admin" if username == "cli_audit" else "system_admin",
            "--password",
            ADMIN_PASSWORD,
        )
        assert made.returncode == 0, made.stderr
    intact = _zhengwu(env, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "chain intact" in intact.stdout

    with sqlite3.connect(data_dir / "zhengwu.sqlite3") as db:
        seq = db.execute(
            "SELECT seq FROM core_auditevent WHERE object_label LIKE '%cli_audit%' ORDER BY seq LIMIT 1"
        ).fetchone()[0]
        db.execute("UPDATE core_auditevent SET after = '{}' WHERE seq = ?", (seq,))
    broken = _zhengwu(env, "audit", "verify")
    assert broken.returncode == 1
    assert f"seq={seq}" in broken.stderr
    assert "edited" in broken.stderr


def test_it_exits_2_when_the_database_is_not_migrated(tmp_path: Path) -> None:
    result = _zhengwu(_env(tmp_path), "audit", "verify")
    assert result.returncode == 2
    assert "zhengwu manage migrate" in result.stderr


# transaction=True: a management command closes every database connection when it ends, which would
# take a test wrapped in one transaction down with it on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_it_returns_1_in_process_when_a_record_is_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    events = [audit_record(action="test.cli", object_type="t", object_id=i) for i in range(4)]
    assert main(["audit", "verify"]) == 0
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[1].pk])
    assert main(["audit", "verify"]) == 1
    assert f"seq={events[2].seq}" in capsys.readouterr().err


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zhengwu.cli", "serve", "--port", str(port), "--no-worker", "--workers", "1"],
        cwd=ROOT,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"zhengwu serve exited early: {proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("zhengwu serve did not answer /healthz within 90 s")
                time.sleep(0.3)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_it_serves_the_portal_and_health_check(served: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = served
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
        assert r.read() == b"ok"
    with urllib.request.urlopen(f"{base}/", timeout=10) as r:
        assert r.status == 200
        page = r.read().decode("utf-8")
    assert "政府门户网站" in page
    assert "Content-Security-Policy" in r.headers or "content-security-policy" in r.headers
    with urllib.request.urlopen(f"{base}/static/zhengwu/app.css", timeout=10) as r:
        assert r.status == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0 or proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM)
    out = proc.stdout.read() if proc.stdout else ""
    assert f"{base}/" in out  # the URL is printed for the person who started it
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/healthz", timeout=2)
