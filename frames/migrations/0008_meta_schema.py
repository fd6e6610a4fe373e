# Typed custom metadata per dataset version (issue 14 item 5).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('frames', '0007_positions'),
    ]

    operations = [
        migrations.CreateModel(
            name='VersionMetaSchema',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version_seq', models.PositiveIntegerField()),
                ('fields', models.JSONField(default=list)),
                ('updated', models.DateTimeField(auto_now=True)),
                ('dataset', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='frames.dataset')),
                ('version', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='frames.datasetversion')),
            ],
            options={
                'indexes': [models.Index(fields=['dataset', 'version_seq'], name='meta_schema_lineage')],
            },
        ),
    ]
