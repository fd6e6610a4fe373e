"""Set up Django for a benchmark against its own PostgreSQL database (never the app's or the tests')."""
import os
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def drop_database(db_name: str) -> None:
    """Drop a benchmark's database (before a run that starts from empty tables, and after it unless BENCH_KEEP)."""
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def setup(db_name: str) -> str:
    """Create `db_name` on the PostgreSQL at BENCH_PG (default: this machine's), migrate it, set up Django."""
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ["DATABASE_URL"] = f"{server}/{db_name}"
    # Measure the database in this process: queue no preview jobs and compute statistics in place.
    os.environ.setdefault("HYPERDATA_PREVIEWS_AUTO", "0")
    os.environ.setdefault("HYPERDATA_STATS_SYNC_FRAMES", str(10**12))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return os.environ["DATABASE_URL"]


def run_then_drop(main, db_name: str) -> None:
    """Run a benchmark's main(), then drop its database unless BENCH_KEEP (also when main fails)."""
    from django.db import connection

    try:
        main()
    finally:
        connection.close()
        if not os.environ.get("BENCH_KEEP"):
            drop_database(db_name)
