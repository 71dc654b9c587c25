import django.db.models.deletion
from django.db import migrations, models

DEFAULT_RULES = [
    (
        "timeliness",
        "栏目更新及时",
        "每个启用的栏目在统计月末前 30 天内至少更新一次；按及时更新的栏目占比得分。",
        60,
        {"days": 30},
        True,
        1,
    ),
    (
        "links",
        "无错链断链",
        "检查网站已发布页面中的站内链接，每发现一个失效链接扣 2 分，扣完为止。",
        40,
        {"per_link": 2},
        True,
        2,
    ),
    (
        "replies",
        "留言办理答复率",
        "政民互动留言答复率（政民互动子系统上线后启用）。",
        20,
        {},
        False,
        3,
    ),
]


def add_rules(apps, schema_editor):
    ScoringRule = apps.get_model("portal", "ScoringRule")
    for code, name, description, weight, params, active, sort in DEFAULT_RULES:
        ScoringRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "weight": weight,
                "params": params,
                "is_active": active,
                "sort": sort,
            },
        )


def remove_rules(apps, schema_editor):
    apps.get_model("portal", "ScoringRule").objects.filter(code__in=[r[0] for r in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_pageviews")]

    operations = [
        migrations.CreateModel(
            name="ScoringRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(max_length=32, unique=True, verbose_name="规则代码")),
                ("name", models.CharField(max_length=64, verbose_name="规则名称")),
                ("description", models.CharField(max_length=300, verbose_name="评分办法")),
                ("weight", models.PositiveSmallIntegerField(verbose_name="分值")),
                ("params", models.JSONField(blank=True, default=dict, verbose_name="参数")),
                ("is_active", models.BooleanField(default=True, verbose_name="启用")),
                ("sort", models.PositiveSmallIntegerField(default=0)),
            ],
            options={"verbose_name": "评分规则", "verbose_name_plural": "评分规则", "ordering": ["sort", "id"]},
        ),
        migrations.CreateModel(
            name="SiteScore",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(verbose_name="月份")),
                ("score", models.DecimalField(decimal_places=1, max_digits=6, verbose_name="得分")),
                ("rank", models.PositiveSmallIntegerField(verbose_name="排名")),
                ("details", models.JSONField(default=dict)),
                ("computed_at", models.DateTimeField(auto_now=True)),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="scores", to="portal.site"
                    ),
                ),
            ],
            options={
                "verbose_name": "网站得分",
                "verbose_name_plural": "网站得分",
                "ordering": ["month", "rank"],
                "constraints": [models.UniqueConstraint(fields=("month", "site"), name="portal_score_unique")],
            },
        ),
        migrations.RunPython(add_rules, remove_rules),
    ]
