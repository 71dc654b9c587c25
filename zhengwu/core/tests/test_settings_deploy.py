"""The production profile: `check --deploy` has nothing to say, and a weak SECRET_KEY stops the start.

Each check runs `manage.py` in a fresh interpreter, as an operator would, with only the environment the
production set-up in README.md asks for.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ROOT / "zhengwu" / "settings.py"


def _clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without anything the test run set (database, queue, profile)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ZHENGWU_", "DJANGO_", "PYTEST_")) and k not in _READ_BY_SETTINGS
    }
    env.update(ZHENGWU_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), **extra)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _variables_read_by_settings() -> set[str]:
    """Every environment variable zhengwu/settings.py reads, found in its source (env_* helpers)."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


_READ_BY_SETTINGS = _variables_read_by_settings()


def _production_env(tmp_path: Path, secret_key: str) -> dict[str, str]:
    return _clean_env(
        tmp_path,
        ZHENGWU_PROFILE="production",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="zw.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://zw.example.gov.cn",
    )


def test_it_passes_check_deploy_with_no_warnings_in_the_production_profile(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(60)[:60]
    result = _manage(_production_env(tmp_path, key), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # The production profile really is on: HTTPS redirect, HSTS and secure cookies are what pass the check.
    shown = _manage(
        _production_env(tmp_path, key),
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.ALLOWED_HOSTS)",
    )
    assert shown.stdout.split() == ["False", "True", "31536000", "True", "['zw.example.gov.cn']"]


@pytest.mark.parametrize(
    "weak_key",
    [
        "",  # not set at all
        "short-but-set",
        "a" * 60,  # long but not random
        "django-insecure-" + "x1y2z3w4v5" * 5,  # Django's own placeholder prefix
    ],
    ids=["unset", "short", "repetitive", "django-insecure"],
)
def test_it_refuses_to_start_in_production_without_a_strong_secret_key(tmp_path: Path, weak_key: str) -> None:
    result = _manage(_production_env(tmp_path, weak_key), "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "生产环境必须设置" in result.stderr
    # Nothing was created in the data directory from a key that was refused.
    assert not (tmp_path / "secret_key").exists()


def test_it_keeps_safe_embedded_defaults_with_no_environment(tmp_path: Path) -> None:
    shown = _manage(
        _clean_env(tmp_path),
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.HUEY['huey_class'], len(s.SECRET_KEY) >= 50)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["django.db.backends.sqlite3", "huey.SqliteHuey", "True"]
    # The generated key is private to the account that runs the platform.
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_it_documents_every_environment_variable_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    missing = sorted(_READ_BY_SETTINGS - documented)
    assert not missing, f"README.md 缺少环境变量说明 / variables not documented in README.md: {missing}"
    example = (ROOT / "docs" / "deploy" / "zhengwu.env.example").read_text(encoding="utf-8")
    for required in ("ZHENGWU_PROFILE", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
        assert re.search(rf"^#?\s*{required}=", example, re.M), required
