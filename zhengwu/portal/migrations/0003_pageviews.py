import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_fulltext")]

    operations = [
        migrations.CreateModel(
            name="PageViewDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("key", models.CharField(max_length=24)),
                ("views", models.PositiveIntegerField(default=0)),
                (
                    "column",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="portal.column",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="portal.item",
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="portal.site"
                    ),
                ),
            ],
            options={
                "verbose_name": "访问量",
                "verbose_name_plural": "访问量",
                "indexes": [models.Index(fields=["site", "day"], name="portal_pageview_site_day")],
                "constraints": [
                    models.UniqueConstraint(fields=("day", "site", "key"), name="portal_pageview_unique")
                ],
            },
        ),
    ]
