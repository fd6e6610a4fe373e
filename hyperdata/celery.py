"""Celery application. The broker is Redis: the real one when REDIS_URL is set, otherwise the embedded
Valkey server that `manage.py serve` (and the test suite) start and publish through REDIS_URL."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")

app = Celery("hyperdata")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
