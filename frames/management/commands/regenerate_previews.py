from django.core.management.base import BaseCommand, CommandError

from frames import selectors, services
from frames.exceptions import ServiceError


class Command(BaseCommand):
    help = "Queue a version's failed and unfinished previews again (--all: re-render every one)."

    def add_arguments(self, parser):
        parser.add_argument("version_id")
        parser.add_argument("--all", action="store_true", help="re-render previews that are already done too")

    def handle(self, *args, version_id, **options):
        try:
            version = selectors.version_get(version_id=version_id)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        queued = services.previews_regenerate(version=version, everything=options["all"])
        progress = selectors.previews_progress(version=version)
        self.stdout.write(f"queued {queued} preview(s); {progress}")
