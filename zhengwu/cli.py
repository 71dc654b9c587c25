"""`zhengwu` — the command line of the platform (wraps manage.py).

Help is bilingual: every command and option is described in Chinese and English.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
    import django

    django.setup()


def _manage(args: Sequence[str]) -> int:
    """Run a management command and return its exit status (a CommandError exits 1)."""
    _django()
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(["zhengwu", *args])
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except DatabaseError as exc:
        # An unreachable or unmigrated database is an operating problem, not a verdict on the data.
        print(
            f"数据库不可用或尚未初始化（请先运行 zhengwu manage migrate）/ "
            f"database unavailable or not migrated (run zhengwu manage migrate): {exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def _print_accounts() -> None:
    """The demo accounts for every role, when the demo city has been built (`zhengwu demo`)."""
    _django()
    try:
        from zhengwu.core.demo_accounts import demo_accounts_text  # type: ignore[import-not-found]
    except ImportError:
        return
    text = demo_accounts_text()
    if text:
        print(text)


def cmd_serve(ns: argparse.Namespace) -> int:
    """Migrate, then serve with gunicorn; the task-queue worker runs beside it unless --no-worker."""
    if _manage(["migrate", "--no-input", "-v", "0"]):
        return 1
    shown_host = "127.0.0.1" if ns.host in {"0.0.0.0", "::", ""} else ns.host
    url = f"http://{shown_host}:{ns.port}/"
    print(f"\n  统一电子政务平台 Zhengwu 正在运行 / is running at: {url}", flush=True)
    print(f"  工作人员登录 / staff sign-in: {url}accounts/login/\n", flush=True)
    try:
        _print_accounts()
    except Exception as exc:  # a half-built demo must not stop the site from serving
        print(f"  （演示账号不可用 / no demo accounts: {exc}）")
    sys.stdout.flush()
    procs: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="zhengwu.settings")
    if not ns.no_worker:
        procs.append(subprocess.Popen([sys.executable, "-m", "zhengwu.cli", "worker"], env=env))
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "zhengwu.wsgi:application",
        "--bind",
        f"{ns.host}:{ns.port}",
        "--workers",
        str(ns.workers),
        "--threads",
        "4",
        "--access-logfile",
        "-" if ns.access_log else "/dev/null",
        "--graceful-timeout",
        "5",
    ]
    web = subprocess.Popen(gunicorn, env=env)
    procs.append(web)

    def stop(*_: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        return web.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def cmd_worker(ns: argparse.Namespace) -> int:
    return _manage(["run_huey", "--workers", str(ns.workers)] if ns.workers else ["run_huey"])


def cmd_demo(ns: argparse.Namespace) -> int:
    args = ["demo", "--scale", ns.scale]
    if ns.reset:
        args.append("--reset")
    if ns.check:
        args.append("--check")
    return _manage(args)


def cmd_audit(ns: argparse.Namespace) -> int:
    """Exit status of `verify`: 0 chain intact, 1 chain broken (the first bad record is named), 2 cannot check."""
    if ns.action == "verify":
        return _manage(["audit_verify"])
    return _manage(["audit_purge"])


def cmd_createadmin(ns: argparse.Namespace) -> int:
    args = ["createadmin", "--role", ns.role]
    if ns.username:
        args += ["--username", ns.username]
    if ns.name:
        args += ["--name", ns.name]
    return _manage(args)


class _BilingualHelp(argparse.HelpFormatter):
    """argparse's own words ("usage:") in both languages, like every help text of the command."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "用法 / usage: " if prefix is None else prefix)


def _parser(sub: Any | None, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    kwargs.setdefault("formatter_class", _BilingualHelp)
    kwargs["add_help"] = False
    p: argparse.ArgumentParser = (
        argparse.ArgumentParser(prog=name, **kwargs) if sub is None else sub.add_parser(name, **kwargs)
    )
    p._positionals.title = "参数 / arguments"
    p._optionals.title = "选项 / options"
    p.add_argument("-h", "--help", action="help", help="显示本帮助并退出 / show this help and exit")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _parser(
        None,
        "zhengwu",
        description="统一电子政务平台命令行 / Zhengwu unified e-government platform command line",
        epilog="其余 Django 管理命令：zhengwu manage <命令> / other Django commands: zhengwu manage <command>",
    )
    sub = parser.add_subparsers(dest="command", metavar="<命令 command>", title="命令 / commands")

    p = _parser(sub, "serve", help="启动网站与后台任务 / serve the site and the task worker")
    p.add_argument(
        "--host", default=os.environ.get("ZHENGWU_HOST", "127.0.0.1"), help="监听地址 / bind address"
    )
    p.add_argument(
        "--port", type=int, default=int(os.environ.get("ZHENGWU_PORT", "8000")), help="端口 / port"
    )
    p.add_argument("--workers", type=int, default=2, help="网站进程数 / web worker processes")
    p.add_argument(
        "--no-worker", action="store_true", help="不在本进程旁启动任务队列 / do not start the queue worker"
    )
    p.add_argument("--access-log", action="store_true", help="输出访问日志 / print the access log")
    p.set_defaults(func=cmd_serve)

    p = _parser(sub, "worker", help="运行后台任务队列 / run the background task worker")
    p.add_argument("--workers", type=int, default=0, help="线程数 / worker threads")
    p.set_defaults(func=cmd_worker)

    p = _parser(sub, "demo", help="生成演示城市 / build the demo city")
    p.add_argument(
        "--scale",
        choices=["small", "seed"],
        default="small",
        help="small: 演示规模 demo size; seed: 种子文件规模（基准测试用）seed scale for benchmarks",
    )
    p.add_argument("--reset", action="store_true", help="先清空数据库 / empty the database first")
    p.add_argument(
        "--check",
        action="store_true",
        help="只检查：已生成退出码 0，否则 1（bin/start 据此只生成一次） / only check: exit 0 if the demo "
        "city exists, 1 otherwise (bin/start builds it once)",
    )
    p.set_defaults(func=cmd_demo)

    p = _parser(
        sub,
        "audit",
        help="留痕链校验与清理 / the tamper-evident trail",
        description="verify 的退出码 / exit status of verify: 0 链条完整 intact; "
        "1 发现篡改（指出第一条问题记录） broken, the first bad record is named; 2 无法校验 cannot check",
    )
    p.add_argument(
        "action",
        choices=["verify", "purge"],
        help="verify: 校验链条并指出第一条被篡改的记录 walk the chain, name the first broken record; "
        "purge: 清除超过保存期限的记录 remove records past retention",
    )
    p.set_defaults(func=cmd_audit)

    p = _parser(sub, "createadmin", help="创建平台管理员（三员） / create a platform administrator")
    p.add_argument(
        "--role",
        choices=["system_admin", "security_admin", "audit_admin"],
        default="system_admin",
        help="系统管理员 / 安全保密管理员 / 安全审计员 — system / security / audit administrator",
    )
    p.add_argument("--username", help="用户名 / user name")
    p.add_argument("--name", help="姓名 / full name")
    p.set_defaults(func=cmd_createadmin)

    p = _parser(sub, "manage", help="运行任意 Django 管理命令 / run any Django management command")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda ns: _manage(ns.args))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if not getattr(ns, "func", None):
        parser.print_help()
        return 0
    return int(ns.func(ns) or 0)


if __name__ == "__main__":
    sys.exit(main())
