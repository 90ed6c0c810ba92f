from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('stechec', '0010_api_tokens'),
    ]

    operations = [
        migrations.AddField(
            model_name='match',
            name='fault',
            field=models.CharField(blank=True, choices=[('', 'none'), ('champion', "a champion's"), ('platform', "the platform's")], default='', max_length=10),
        ),
        # Matches finished before this field: a failed one was the platform's
        # (no result from a champion's fault was ever stored as failed).
        migrations.RunSQL(
            "UPDATE stechec_match SET fault = 'platform' WHERE status = 'failed'",
            migrations.RunSQL.noop),
    ]
