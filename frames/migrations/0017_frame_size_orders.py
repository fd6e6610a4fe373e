"""Indexes for the first source's width and height orders (PostgreSQL).

The browse sorts `width` and `height` order by `NULLIF(sources #> '{0,width}', 'null'::jsonb)` (the JSON value, a
JSON null as no value, as selectors.query.json_sort_expression writes it), then frame id. Without an index every page sorted the whole
version: 1-2 s a page at a million frames. The expression here must stay the one Django writes for that sort,
or the planner will not use the index.
"""
from django.db import migrations

SIDES = ("width", "height")


def _index(side: str) -> str:
    return (f"CREATE INDEX IF NOT EXISTS frame_{side}_order ON frames_frame "
            f"(dataset_id, NULLIF(sources #> '{{0,{side}}}', 'null'::jsonb), frame_id) WHERE NOT deleted")


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for side in SIDES:
            schema_editor.execute(_index(side))


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for side in SIDES:
            schema_editor.execute(f"DROP INDEX IF EXISTS frame_{side}_order")


class Migration(migrations.Migration):
    dependencies = [("frames", "0016_no_statistics_on_frame_json")]

    operations = [migrations.RunPython(_create, _drop)]
