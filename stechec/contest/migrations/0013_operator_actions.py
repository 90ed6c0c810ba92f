import django.utils.timezone
from django.db import migrations, models

from stechec.common.database import OPERATIONS_CHANNEL

# On PostgreSQL each recorded action NOTIFYs the master at commit (it obeys
# within a second); on SQLite the master polls the table.
FUNCTION = "stechec_notify_operation"
TRIGGER = "stechec_operatoraction_notify"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{OPERATIONS_CHANNEL}', ''); RETURN NULL; END $$")
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON stechec_operatoraction "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()")


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER {TRIGGER} ON stechec_operatoraction")
    schema_editor.execute(f"DROP FUNCTION {FUNCTION}()")


class Migration(migrations.Migration):

    dependencies = [
        ('stechec', '0012_webhooks'),
    ]

    operations = [
        migrations.CreateModel(
            name='OperatorAction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('pause', 'pause dispatching'), ('resume', 'resume dispatching'), ('drain', 'drain a worker'), ('undrain', 'undrain a worker'), ('requeue_matches', 'requeue failed matches'), ('requeue_champions', 'requeue failed compilations'), ('cancel', 'cancel a match')], max_length=20)),
                ('actor', models.CharField(max_length=150)),
                ('ts', models.DateTimeField(default=django.utils.timezone.now)),
                ('target', models.CharField(blank=True, max_length=300)),
                ('filter', models.JSONField(blank=True, null=True)),
                ('outcome', models.TextField(blank=True)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.AlterField(
            model_name='match',
            name='fault',
            field=models.CharField(blank=True, choices=[('', 'none'), ('champion', "a champion's"), ('platform', "the platform's"), ('cancelled', 'cancelled by staff')], default='', max_length=10),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
