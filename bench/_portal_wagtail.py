"""The Wagtail side of the portal page benchmark, kept out of the project's environment: a venv of its
own with a pinned Wagtail, a project made by ``wagtail start`` plus a small ``news`` app (a column page
listing its 20 newest articles; an article page with date, source and rich-text body, searchable), and a
loader that creates the same articles through Wagtail's page API and times it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WAGTAIL = "wagtail==8.0.1"
GUNICORN = "gunicorn==27.0.1"

MODELS = '''\
from django.db import models
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class ColumnPage(Page):
    """A column (栏目): a section of the site, or a leaf listing its 20 newest articles."""

    subpage_types = ["news.ColumnPage", "news.ArticlePage"]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["articles"] = ArticlePage.objects.child_of(self).live().order_by("-date", "-pk")[:20]
        return context


class ArticlePage(Page):
    date = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=64, blank=True)
    body = RichTextField()

    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["news.ColumnPage"]
    subpage_types = []
'''

BASE = """\
{% load static wagtailcore_tags %}<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }}{% wagtail_site as current_site %}{% if current_site and current_site.site_name %} - {{ current_site.site_name }}{% endif %}</title>
<link rel="stylesheet" href="{% static 'css/wtbench.css' %}"></head>
<body><header><a href="/">{{ current_site.site_name }}</a>
<nav>{% for p in current_site.root_page.get_children.live.in_menu %}<a href="{% pageurl p %}">{{ p.title }}</a> {% endfor %}</nav></header>
<nav class="crumbs">{% for a in page.get_ancestors %}{% if not a.is_root %}<a href="{% pageurl a %}">{{ a.title }}</a> › {% endif %}{% endfor %}</nav>
<main>{% block content %}{% endblock %}</main><footer>{{ current_site.site_name }}</footer></body></html>
"""

ARTICLE = """\
{% extends "news/base.html" %}{% load wagtailcore_tags %}
{% block content %}<article><h1>{{ page.title }}</h1>
<div class="meta"><time datetime="{{ page.date|date:'c' }}">{{ page.date|date:"Y-m-d" }}</time> 来源：{{ page.source }}</div>
<div class="body">{{ page.body|richtext }}</div></article>{% endblock %}
"""

COLUMN = """\
{% extends "news/base.html" %}{% load wagtailcore_tags %}
{% block content %}<h1>{{ page.title }}</h1><ul>
{% for a in articles %}<li><a href="{% pageurl a %}">{{ a.title }}</a> <time>{{ a.date|date:"Y-m-d" }}</time></li>{% endfor %}
</ul>{% endblock %}
"""

SETTINGS = """\
from .base import *  # noqa

DEBUG = False
SECRET_KEY = "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["news", *INSTALLED_APPS]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
WAGTAIL_SITE_NAME = "平凉市人民政府"
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
"""

LOADER = '''\
"""Create the sections, columns and articles of a JSON file through Wagtail's page API, timed."""
import datetime as dt
import json
import sys
import time

import django

django.setup()
from django.db import connection  # noqa: E402
from wagtail.models import Site  # noqa: E402

from news.models import ArticlePage, ColumnPage  # noqa: E402

articles = json.load(open(sys.argv[1], encoding="utf-8"))
site = Site.objects.get(is_default_site=True)
site.site_name = "平凉市人民政府"
site.save()
home = site.root_page.specific
columns = {}
sections = {}
t0 = time.perf_counter()
for a in articles:
    if a["column"] in columns:
        continue
    section = sections.get(a["top"])
    if section is None:
        section = sections[a["top"]] = home.add_child(
            instance=ColumnPage(title=a["top_name"], slug=a["top"], show_in_menus=True)
        )
    columns[a["column"]] = section.add_child(instance=ColumnPage(title=a["column_name"], slug=a["column"]))
article_paths = []
rates = []
t_start = time.perf_counter()
t_block = t_start
for n, a in enumerate(articles, 1):
    column = columns[a["column"]]
    page = column.add_child(
        instance=ArticlePage(
            title=a["title"],
            slug=f"a{a['id']}",
            body=a["body"],
            source=a["source"],
            date=dt.datetime.fromisoformat(a["published_at"]),
        )
    )
    article_paths.append(page.url_path[len(home.url_path) - 1:])
    if n % 1000 == 0:
        now = time.perf_counter()
        rates.append(1000 / (now - t_block))
        t_block = now
        print(f"  wagtail: {n:,} pages, {rates[-1]:.0f} pages/s in the last 1,000", file=sys.stderr, flush=True)
seconds = time.perf_counter() - t_start
with connection.cursor() as cur:
    cur.execute("ANALYZE")
column_paths = [c.url_path[len(home.url_path) - 1:] for c in columns.values()]
print(json.dumps({"pages": len(articles), "seconds": seconds, "rates": rates,
                  "articles": article_paths, "columns": column_paths}))
'''


def venv(base: Path) -> Path:
    """The bench-only venv (created once); returns its python."""
    python = base / "bin" / "python"
    if not (base / "bin" / "wagtail").exists():
        print(f"  creating {base} with {WAGTAIL} (bench only; never installed into the project)")
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", WAGTAIL, GUNICORN],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return python


def project(python: Path, target: Path) -> None:
    """A fresh project in ``target``: ``wagtail start`` + the news app, migrated."""
    import shutil

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(
        [str(python.parent / "wagtail"), "start", "wtbench", str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    news = target / "news"
    (news / "templates" / "news").mkdir(parents=True)
    (news / "migrations").mkdir()
    (news / "__init__.py").write_text("")
    (news / "migrations" / "__init__.py").write_text("")
    (news / "models.py").write_text(MODELS)
    (news / "templates" / "news" / "base.html").write_text(BASE)
    (news / "templates" / "news" / "article_page.html").write_text(ARTICLE)
    (news / "templates" / "news" / "column_page.html").write_text(COLUMN)
    (target / "wtbench" / "settings" / "bench.py").write_text(SETTINGS)
    (target / "load.py").write_text(LOADER)
    env = {"DJANGO_SETTINGS_MODULE": "wtbench.settings.bench", "PATH": "/usr/bin:/bin"}
    for args in (["makemigrations", "news"], ["migrate"]):
        subprocess.run(
            [str(python), "manage.py", *args, "-v0"],
            cwd=target,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def load(python: Path, target: Path, articles: list[dict]) -> dict:
    data = target / "articles.json"
    data.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    env = {
        "DJANGO_SETTINGS_MODULE": "wtbench.settings.bench",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(target),
    }
    out = subprocess.run(
        [str(python), "load.py", str(data)],
        cwd=target,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def env(target: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "wtbench.settings.bench",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(target),
    }
