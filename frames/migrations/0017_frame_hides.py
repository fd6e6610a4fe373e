"""The parent's revision a draft's own revision hides (FrameRevision.hides), noted as frames are written.

Nullable without a default: PostgreSQL adds it without rewriting the table. Rows written before it are NULL, which
readers take as "not noted" and look up as before (selectors.stats_delta.draft_changes).
"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("frames", "0016_no_statistics_on_frame_json")]

    operations = [migrations.AddField(model_name="framerevision", name="hides", field=models.BigIntegerField(blank=True, null=True))]
