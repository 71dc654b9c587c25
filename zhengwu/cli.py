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


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
    import django

    django.setup()


def _manage(args: Sequence[str]) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["zhengwu", *args])
    return 0


def _print_accounts() -> None:
    _django()
    from zhengwu.core.demo_accounts import demo_accounts_text

    print(demo_accounts_text())


def cmd_serve(ns: argparse.Namespace) -> int:
    """Migrate, then serve with gunicorn; the task-queue worker runs beside it unless --no-worker."""
    _manage(["migrate", "--no-input", "-v", "0"])
    url = f"http://{ns.host}:{ns.port}/"
    print(f"\n  统一电子政务平台 Zhengwu 正在运行 / is running at: {url}\n")
    try:
        _print_accounts()
    except Exception as exc:  # the demo may not be built; serving still works
        print(f"  (no demo accounts: {exc})")
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
    return _manage(args)


def cmd_audit(ns: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhengwu",
        description="统一电子政务平台命令行 / Zhengwu unified e-government platform command line",
        epilog="其余 Django 管理命令：zhengwu manage <命令> / other Django commands: zhengwu manage <command>",
    )
    sub = parser.add_subparsers(dest="command", metavar="<命令 command>")

    p = sub.add_parser("serve", help="启动网站与后台任务 / serve the site and the task worker")
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

    p = sub.add_parser("worker", help="运行后台任务队列 / run the background task worker")
    p.add_argument("--workers", type=int, default=0, help="线程数 / worker threads")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="生成演示城市 / build the demo city")
    p.add_argument(
        "--scale",
        choices=["small", "seed"],
        default="small",
        help="small: 演示规模 demo size; seed: 种子文件规模（基准测试用）seed scale for benchmarks",
    )
    p.add_argument("--reset", action="store_true", help="先清空数据库 / empty the database first")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("audit", help="留痕链校验与清理 / the tamper-evident trail")
    p.add_argument(
        "action",
        choices=["verify", "purge"],
        help="verify: 校验链条并指出第一条被篡改的记录 walk the chain, name the first broken record; "
        "purge: 清除超过保存期限的记录 remove records past retention",
    )
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("createadmin", help="创建平台管理员（三员） / create a platform administrator")
    p.add_argument(
        "--role",
        choices=["system_admin", "security_admin", "audit_admin"],
        default="system_admin",
        help="系统管理员 / 安全保密管理员 / 安全审计员 — system / security / audit administrator",
    )
    p.add_argument("--username", help="用户名 / user name")
    p.add_argument("--name", help="姓名 / full name")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("manage", help="运行任意 Django 管理命令 / run any Django management command")
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
