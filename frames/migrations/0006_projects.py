# Projects (issue 13): every dataset lives in one project, as in ClearML. The datasets that exist already go to
# a project named "General", made here; the column is added nullable, filled, then made required.

import django.db.models.deletion
import frames.models
from django.conf import settings
from django.db import migrations, models

DEFAULT_PROJECT_NAME = "General"  # frames.models.Project.DEFAULT_NAME, copied: migrations must not follow the model


def datasets_into_general(apps, schema_editor):
    Project = apps.get_model("frames", "Project")
    Dataset = apps.get_model("frames", "Dataset")
    if not Dataset.objects.exists():
        return
    general, _ = Project.objects.get_or_create(
        name=DEFAULT_PROJECT_NAME, defaults={"id": frames.models.new_id(), "description": "Datasets made before projects existed."},
    )
    Dataset.objects.filter(project__isnull=True).update(project=general)


def datasets_out_of_projects(apps, schema_editor):
    apps.get_model("frames", "Dataset").objects.update(project=None)


class Migration(migrations.Migration):

    dependencies = [
        ('frames', '0005_cloud_credentials'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Project',
            fields=[
                ('id', models.CharField(default=frames.models.new_id, editable=False, max_length=32, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=255, unique=True)),
                ('description', models.TextField(blank=True, default='')),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='dataset',
            name='project',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='datasets', to='frames.project'),
        ),
        migrations.RunPython(datasets_into_general, datasets_out_of_projects),
        migrations.AlterField(
            model_name='dataset',
            name='project',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='datasets', to='frames.project'),
        ),
    ]
