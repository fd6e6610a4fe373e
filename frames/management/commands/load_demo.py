"""`manage.py load_demo`: make the demo dataset (media drawn on this machine) unless it exists."""
from django.core.management.base import BaseCommand

from frames import demo, services
from frames.models import Dataset
from frames.selectors.access import SYSTEM


class Command(BaseCommand):
    help = "Create the demo dataset (synthetic images, masks, a FrameGroup, a multi-page TIFF and a video)."

    def add_arguments(self, parser):
        parser.add_argument("--recreate", action="store_true", help="delete the demo dataset first, then make it again")

    def handle(self, *args, recreate=False, **options):
        if recreate:
            existing = Dataset.objects.filter(name=demo.DEMO_NAME).first()
            if existing is not None:
                services.dataset_delete(user=SYSTEM, dataset=existing)
                self.stdout.write(f"deleted the demo dataset '{demo.DEMO_NAME}'")
        info = demo.ensure_demo(stdout=self.stdout)
        state = "created" if info.created else "already there"
        self.stdout.write(f"demo dataset '{info.name}' ({info.dataset_id}) {state}; media in {info.path}")
