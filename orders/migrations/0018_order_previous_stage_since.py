"""Order.previous_stage_since: where an undo returns the stage time to."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0017_workflow_stages_token'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='previous_stage_since',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
