"""Fixtures for notification tests: quiet hours off by default, a file SMS gateway, real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connections


@pytest.fixture(autouse=True)
def _notify_defaults(settings: Any, tmp_path: Path) -> None:
    """Tests run at any hour: quiet hours are off unless a test turns them on (with a frozen clock)."""
    settings.NOTIFY_SMS_QUIET_HOURS = "off"
    settings.SMS_BACKEND = "zhengwu.notify.gateways.FileSmsBackend"
    settings.SMS_FILE_DIR = tmp_path / "sms"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def shared_database(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    """A DATABASE_URL that a worker subprocess can open and that this test reads and writes.

    PostgreSQL and a file-backed SQLite test database are shared as they are. The default in-memory
    SQLite test database is copied to a file (VACUUM INTO, schema included) and this test's connection is
    pointed at the copy for the duration; the in-memory database is kept open and restored afterwards.
    """
    conn = connections["default"]
    sd = conn.settings_dict
    if conn.vendor == "postgresql":
        auth = quote(sd["USER"] or "", safe="")
        if sd.get("PASSWORD"):
            auth += ":" + quote(sd["PASSWORD"], safe="")
        yield f"postgres://{auth}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"
        return
    if not conn.is_in_memory_db():
        yield f"sqlite://{Path(sd['NAME']).resolve()}"
        return
    path = tmp_path / "shared.sqlite3"
    conn.ensure_connection()
    with conn.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    kept, original = conn.connection, sd["NAME"]
    conn.connection = None
    sd["NAME"] = str(path)
    try:
        yield f"sqlite://{path}"
    finally:
        conn.close()
        sd["NAME"] = original
        conn.connection = kept


@contextmanager
def _real_queue(storage: Any) -> Iterator[Any]:
    """Point this process's Huey at a real queue (tests otherwise run tasks immediately, in-process)."""
    from huey.contrib.djhuey import HUEY

    saved = HUEY.storage, HUEY._immediate
    HUEY._immediate = False
    HUEY.storage = storage
    try:
        yield HUEY
    finally:
        HUEY.storage, HUEY._immediate = saved


class Workers:
    """Starts `manage.py run_huey` processes against this test's database and its own queue."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sms_dir = tmp_path / "sms-workers"
        self.queue_name = f"zw-test-{uuid.uuid4().hex[:10]}"
        self.queue_file = tmp_path / "queue.sqlite3"
        self.lease_seconds = 3
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "zhengwu.settings",
            "DATABASE_URL": db_url,
            "ZHENGWU_QUEUE_IMMEDIATE": "0",
            "ZHENGWU_QUEUE_FILE": str(self.queue_file),
            "ZHENGWU_QUEUE_NAME": self.queue_name,
            "ZHENGWU_SMS_BACKEND": "zhengwu.notify.testing_backends.SlowFileSmsBackend",
            "ZHENGWU_SMS_FILE_DIR": str(self.sms_dir),
            "ZHENGWU_SMS_QUIET_HOURS": "off",
            "ZHENGWU_NOTIFY_LEASE_SECONDS": str(self.lease_seconds),
            "ZHENGWU_WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("ZHENGWU_TESTING", None)
        if django_settings.REDIS_URL:
            # This process may use a Redis database of its own (parallel test runs); the worker must too.
            self.env["REDIS_URL"] = django_settings.REDIS_URL

    @property
    def uses_redis(self) -> bool:
        return bool(django_settings.REDIS_URL)

    def storage(self) -> Any:
        if self.uses_redis:
            from huey.storage import RedisStorage

            return RedisStorage(name=self.queue_name, url=django_settings.REDIS_URL)
        from huey.storage import SqliteStorage

        return SqliteStorage(name="zhengwu", filename=str(self.queue_file))

    @contextmanager
    def queue(self) -> Iterator[Any]:
        storage = self.storage()
        with _real_queue(storage) as huey:
            yield huey

    def start(self, *, cli: bool = False) -> subprocess.Popen[bytes]:
        """One worker process: `manage.py run_huey`, or the operators' `zhengwu worker` with cli=True."""
        log = (self.tmp_path / f"worker-{len(self.procs) + 1}.log").open("wb")
        command = (
            [sys.executable, "-m", "zhengwu.cli", "worker", "--workers", "2"]
            if cli
            else [sys.executable, "manage.py", "run_huey", "-w", "2", "-k", "thread", "-m", "0.5"]
        )
        proc = subprocess.Popen(
            command,
            cwd=django_settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.uses_redis:
            self.storage().flush_all()


@pytest.fixture
def workers(shared_database: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(shared_database, tmp_path)
    try:
        yield w
    finally:
        w.stop_all()


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
