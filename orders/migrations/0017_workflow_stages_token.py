"""Workflow.stages_token: what a tap's cached stage list goes by."""

import functools
import secrets
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0016_order_phone_e164"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="stages_token",
            field=models.CharField(
                default=functools.partial(secrets.token_hex, *(16,), **{}),
                editable=False,
                max_length=32,
            ),
        ),
    ]
