from django.core.management.base import BaseCommand, CommandError

from frames import selectors, services
from frames.exceptions import ServiceError


class Command(BaseCommand):
    help = ("Remove the media files the SDK uploaded that no frame names any more (add_frames failed, frames or "
            "datasets deleted), once older than the grace period (HYPERDATA_UPLOADS_GRACE_HOURS, default 24).")

    def add_arguments(self, parser):
        parser.add_argument("--grace-hours", type=float, default=None,
                            help="keep unused files younger than this many hours (default: HYPERDATA_UPLOADS_GRACE_HOURS)")

    def handle(self, *args, grace_hours, **options):
        try:
            cleaned = services.uploads_clean(user=selectors.SYSTEM, grace_seconds=None if grace_hours is None else grace_hours * 3600)
        except ServiceError as exc:
            raise CommandError(f"--grace-hours: {exc.message}") from None
        for uri in cleaned.removed:
            self.stdout.write(f"removed {uri}")
        self.stdout.write(f"removed {len(cleaned.removed)} unused upload(s); kept {cleaned.kept}")
