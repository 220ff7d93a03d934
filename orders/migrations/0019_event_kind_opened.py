"""OrderEvent.Kind.OPENED: the customer first opened the tracking link."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0018_order_previous_stage_since"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "created"),
                    ("advanced", "advanced"),
                    ("completed", "completed"),
                    ("undone", "undone"),
                    ("cancelled", "cancelled"),
                    ("delayed", "delayed"),
                    ("resumed", "resumed"),
                    ("note", "note"),
                    ("promised", "promised"),
                    ("problem", "problem reported"),
                    ("feedback", "feedback"),
                    ("seen", "alert seen"),
                    ("unsubscribed", "messages stopped"),
                    ("edited", "details edited"),
                    ("confirmed", "confirmed by the customer"),
                    ("opened", "tracking link opened"),
                ],
                max_length=12,
                verbose_name="what happened",
            ),
        ),
    ]
