"""python manage.py import_frames --format coco|clearml|encord|lightly PATH --dataset NAME [--create] ..."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from frames import services
from frames.exceptions import ServiceError
from frames.importers.base import ImportSource
from frames.management.cli import acting_user, version_for
from frames.services.imports import problem_place


class Command(BaseCommand):
    help = (
        "Import frames from a file or folder into a draft version, all or nothing: every problem is listed with its "
        "file, line and field, and then nothing is imported (exit code 1). --dry-run reads and checks only."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file or folder to import")
        parser.add_argument("--format", required=True, choices=services.import_formats())
        parser.add_argument("--version-id", help="the draft version's id")
        parser.add_argument("--dataset", help="a dataset's name or id: import into its newest draft")
        parser.add_argument("--create", action="store_true", help="make the --dataset when there is none")
        parser.add_argument("--media-root", default="", help="folder or cloud prefix (s3://bucket/images/) media names resolve against")
        parser.add_argument("--lenient", action="store_true", help="accept trailing and missing commas, and say what was fixed")
        parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a format option (VALUE read as JSON when it is)")
        parser.add_argument("--dry-run", action="store_true", help="read and check only; write nothing")
        parser.add_argument("--user", help="who imports (default: the first superuser)")

    def handle(self, *args, path, **opts):
        user = acting_user(opts["user"])
        version = version_for(user, version_id=opts["version_id"], dataset=opts["dataset"], create=opts["create"], draft=True)
        # The operator at the server's shell may import any file they can read (the API only HYPERDATA_MEDIA_ROOTS).
        source = ImportSource(
            path=_existing(path), media_root=opts["media_root"], options=_options(opts),
            output_dir=services.import_output_dir(uuid.uuid4().hex),
        )
        with tqdm(desc="frames read", unit=" frames", disable=opts["verbosity"] < 1, file=self.stderr) as bar:
            try:
                result = services.import_frames(
                    user=user, version=version, format=opts["format"], source=source, dry_run=opts["dry_run"],
                    progress=lambda frames: bar.update(frames - bar.n),
                )
            except services.ImportRefused as exc:
                self._report(exc.result.as_dict())
                raise CommandError(exc.message) from None
            except ServiceError as exc:
                raise CommandError(f"{exc.errors[0]['field']}: {exc.message}") from None
            bar.update(result.frames - bar.n)
        self._report(result.as_dict())

    def _report(self, report: dict) -> None:
        verb = "would import" if report["dry_run"] else "imported"
        self.stdout.write(f"{verb} {report['frames']:,} frame(s) ({report['added']:,} added, {report['replaced']:,} replaced) in {report['seconds']} s")
        for note in report["notes"]:
            self.stdout.write(f"note: {note}")
        if report["labels"]:
            self.stdout.write("labels: " + ", ".join(f"{k} {v:,}" for k, v in list(report["labels"].items())[:20]))
        for problem in report["problems"]:
            self.stderr.write(f"{problem_place(problem)}: {problem['field']}: {problem['message']}")
        if report["problem_count"] > len(report["problems"]):
            self.stderr.write(f"... and {report['problem_count'] - len(report['problems']):,} more problem(s)")


def _existing(path: str) -> Path:
    resolved = Path(path).expanduser().resolve()
    if not resolved.exists():
        raise CommandError(f"path: no file or folder {path!r}")
    return resolved


def _options(opts) -> dict:
    options = {"lenient": True} if opts["lenient"] else {}
    for item in opts["option"]:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--option: expected KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options
