from django.core.management.base import BaseCommand, CommandError

from frames import selectors, services
from frames.exceptions import ServiceError
from frames.models import Job


class Command(BaseCommand):
    help = "Queue a version's failed and unfinished previews again (--all: re-render every one)."

    def add_arguments(self, parser):
        parser.add_argument("version_id")
        parser.add_argument("--all", action="store_true", help="re-render previews that are already done too")

    def handle(self, *args, version_id, **options):
        user = selectors.SYSTEM
        try:
            version = selectors.version_get(user=user, version_id=version_id)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        outcome = services.previews_regenerate(user=user, version=version, everything=options["all"])
        if isinstance(outcome, Job):
            self.stdout.write(f"a worker goes through the version's frames: job {outcome.pk} ({outcome.state})")
            return
        progress = services.previews_progress(user=user, version=version)
        self.stdout.write(f"queued {outcome} preview(s); {progress}")
