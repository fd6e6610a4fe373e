"""python manage.py export_frames --version-id ID [--format clearml|jsonl|coco] [--frame-query LUCENE] [-o FILE]"""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from frames import selectors
from frames.exceptions import ServiceError
from frames.management.cli import acting_user, version_for
from frames.selectors.query import parse_frame_query


class Command(BaseCommand):
    help = "Export a version, or the frames a filter matches, streamed in constant memory (to a file or stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--version-id", help="the version's id")
        parser.add_argument("--dataset", help="a dataset's name or id: its newest version")
        parser.add_argument("--format", default="clearml", choices=list(selectors.EXPORT_FORMATS))
        parser.add_argument("--frame-query", default="", help="Lucene over frame fields, as in the browser's filter")
        parser.add_argument("--roi-query", default="", help="Lucene over ROI fields (labels, confidence, meta.*)")
        parser.add_argument("--sort", default="", help="the order, as the API's `sort`")
        parser.add_argument("-o", "--output", default="-", help="the file to write (default: stdout)")
        parser.add_argument("--user", help="who exports (default: the first superuser)")

    def handle(self, *args, **opts):
        user = acting_user(opts["user"])
        version = version_for(user, version_id=opts["version_id"], dataset=opts["dataset"])
        params = {name: opts[name] for name in ("frame_query", "roi_query", "sort") if opts[name]}
        try:
            chunks = selectors.frames_export(user=user, version=version, query=parse_frame_query(params), export_format=opts["format"])
        except ServiceError as exc:
            raise CommandError(f"{exc.errors[0]['field']}: {exc.errors[0]['message']}") from None
        out = sys.stdout if opts["output"] == "-" else open(opts["output"], "w", encoding="utf-8")
        written = 0
        with tqdm(desc="bytes written", unit="B", unit_scale=True, disable=opts["verbosity"] < 1, file=self.stderr) as bar:
            try:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
            finally:
                if out is not sys.stdout:
                    out.close()
        self.stderr.write(f"exported {version.dataset.name} / {version.name} as {opts['format']} ({written:,} characters)")
