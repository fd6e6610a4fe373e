"""HyperData settings, read from the environment (12-factor).

With no environment at all HyperData runs embedded: SQLite under var/ and the Valkey server that
`manage.py serve` starts. DATABASE_URL selects PostgreSQL, REDIS_URL a real Redis (broker and cache).
"""
import base64
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from hyperdata.previews_storage import previews_storage
from hyperdata.uploads_storage import uploads_bucket

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    """The variable's value; an empty (or blank) variable counts as unset, as if it were not there."""
    value = os.environ.get(name, "")
    return value.strip() if value.strip() else default


def env_bool(name, default=False):
    value = env(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def env_int(name, default: int) -> int:
    return int(env(name, default))


def env_float(name, default: float) -> float:
    return float(env(name, default))


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("HYPERDATA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


DEBUG = env_bool("DEBUG", False)
# A fixed development key is only acceptable in DEBUG; production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "frames",
    "viewer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hyperdata.unavailable.DatabaseUnavailableMiddleware",  # the database down: 503, not 500
    "hyperdata.middleware.RefuseNulInAddressMiddleware",  # a NUL in the path or query: 400, before any database use
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "hyperdata.middleware.LoginRequiredExceptApiMiddleware",
    "hyperdata.middleware.HideResolvedAddressesMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hyperdata.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Only for markup repeated per frame (viewer/render.py); pages are Django templates.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "viewer.render.environment"},
    },
]
WSGI_APPLICATION = "hyperdata.wsgi.application"

SQLITE_PATH = VAR_DIR / "hyperdata.sqlite3"
# Health checks: a connection kept from before a database restart is tested before a request uses it.
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60,
                                              conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE avoids deadlocking upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file (a Celery worker subprocess must open the same database), one per pytest process so
    # that several test runs in one tree do not share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env("HYPERDATA_TEST_DB") or str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding sends bulk inserts' arrays as parameters instead of quoting them in Python
    # (client-side quoting of the UNNEST arrays cost most of the time of a 10,000-frame insert).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    # Web requests run short, index-driven queries: JIT compilation (~100 ms) and parallel workers' start-up
    # (~60 ms) cost more than they save there. Long jobs can SET them back locally.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off -c max_parallel_workers_per_gather=0")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the real one from REDIS_URL, or the embedded one whose address `manage.py serve` publishes.
EMBEDDED_REDIS_URL_FILE = VAR_DIR / "run" / "redis.url"
REDIS_URL = env("REDIS_URL") or (
    EMBEDDED_REDIS_URL_FILE.read_text().strip() if EMBEDDED_REDIS_URL_FILE.exists() else ""
)

if REDIS_URL and env("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "hyperdata.resilient_cache.ResilientRedisCache",  # goes on without Redis (a miss)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hyperdata",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is handed out again after this many seconds.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
# The test suite gives each run its own queue so that runs sharing one Redis never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env("HYPERDATA_CELERY_QUEUE", "hyperdata")
# Redis takes priority 0 first: the large renditions a viewer waits for are sent with 0, go ahead of the rest.
CELERY_TASK_DEFAULT_PRIORITY = 6
# Periodic tasks (Celery beat: `celery -A hyperdata beat`, or the embedded worker of `manage.py serve`).
CELERY_BEAT_SCHEDULE = {
    "clean-uploads": {"task": "frames.tasks.clean_uploads", "schedule": env_float("HYPERDATA_UPLOADS_CLEAN_SECONDS", 3600)},
}
# A job's worker holds it this long without a sign of life (it renews the lease every third of it); a job
# whose worker died is taken over by the task's next delivery after that.
HYPERDATA_JOB_LEASE_SECONDS = env_int("HYPERDATA_JOB_LEASE_SECONDS", 300)
HYPERDATA_TASK_SOFT_TIME_LIMIT = env_int("HYPERDATA_TASK_SOFT_TIME_LIMIT", 6 * 3600)
# Every worker sweeps this often (frames.tasks.WorkSweep): tasks kept while the broker was down are sent,
# jobs queued or with a lease run out for longer than HYPERDATA_SWEEP_STALE_SECONDS are queued again, and the
# pending renditions of a previews job that has not moved for that long are sent again (tasks the broker lost).
HYPERDATA_SWEEP_SECONDS = env_float("HYPERDATA_SWEEP_SECONDS", 30)
HYPERDATA_SWEEP_STALE_SECONDS = env_float("HYPERDATA_SWEEP_STALE_SECONDS", 600)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    # Previews, renditions and tiles: MEDIA_ROOT, or a bucket (hyperdata/previews_storage.py).
    "default": previews_storage(
        env("HYPERDATA_PREVIEWS_STORAGE"), access_key=env("HYPERDATA_PREVIEWS_ACCESS_KEY"),
        secret_key=env("HYPERDATA_PREVIEWS_SECRET_KEY"), region=env("HYPERDATA_PREVIEWS_REGION"),
        tls=env_bool("HYPERDATA_PREVIEWS_TLS", True),
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Where file:// source URIs may point. The demo dataset lives under var/demo.
# The demo's folder is always one of them, and so is the imports folder (uploaded import files and the masks
# importers generate); HYPERDATA_MEDIA_ROOTS adds the operator's own. A server-side folder import must lie in one.
HYPERDATA_IMPORTS_DIR = Path(env("HYPERDATA_IMPORTS_DIR", VAR_DIR / "imports"))
HYPERDATA_MEDIA_ROOTS = list(dict.fromkeys([str(VAR_DIR / "demo"), str(HYPERDATA_IMPORTS_DIR), *env_list("HYPERDATA_MEDIA_ROOTS")]))
# Media the SDK uploads (a frame's local source and mask files): HYPERDATA_IMPORTS_DIR/media, or the bucket
# HYPERDATA_UPLOADS_STORAGE names (hyperdata/uploads_storage.py). Those no frame names are removed once older than
# HYPERDATA_UPLOADS_GRACE_HOURS, by `manage.py clean_uploads` or the periodic task (CELERY_BEAT_SCHEDULE).
HYPERDATA_UPLOADS_BUCKET = uploads_bucket(
    env("HYPERDATA_UPLOADS_STORAGE"), access_key=env("HYPERDATA_UPLOADS_ACCESS_KEY"),
    secret_key=env("HYPERDATA_UPLOADS_SECRET_KEY"), region=env("HYPERDATA_UPLOADS_REGION"),
    tls=env_bool("HYPERDATA_UPLOADS_TLS", True),
)
HYPERDATA_UPLOADS_GRACE_HOURS = env_float("HYPERDATA_UPLOADS_GRACE_HOURS", 24)

# --- Source fetching (frames/storage): what a source URI may make the server read ---
# Loopback, private, link-local... addresses are refused unless listed here (comma-separated CIDRs).
HYPERDATA_ALLOWED_FETCH_NETWORKS = env_list("HYPERDATA_ALLOWED_FETCH_NETWORKS")
HYPERDATA_MAX_FETCH_BYTES = env_int("HYPERDATA_MAX_FETCH_BYTES", 2 * 1024**3)
HYPERDATA_FETCH_CONNECT_TIMEOUT = env_float("HYPERDATA_FETCH_CONNECT_TIMEOUT", 5)
HYPERDATA_FETCH_READ_TIMEOUT = env_float("HYPERDATA_FETCH_READ_TIMEOUT", 30)
HYPERDATA_FETCH_TOTAL_TIMEOUT = env_float("HYPERDATA_FETCH_TOTAL_TIMEOUT", 900)
HYPERDATA_FETCH_SPOOL_BYTES = env_int("HYPERDATA_FETCH_SPOOL_BYTES", 32 * 1024**2)  # then disk
HYPERDATA_FETCH_TMP_DIR = env("HYPERDATA_FETCH_TMP_DIR")
HYPERDATA_FETCH_CA_BUNDLE = env("HYPERDATA_FETCH_CA_BUNDLE")  # CA file replacing the default
# Callable or dotted path, called as provider(scheme=..., host=...) -> dict | None (per-host credentials).
HYPERDATA_STORAGE_CREDENTIALS_PROVIDER = None
# Fernet key encrypting cloud credential secrets at rest (frames/secrets.py); several machines share one.
HYPERDATA_SECRETS_KEY = env("HYPERDATA_SECRETS_KEY", "")
if not HYPERDATA_SECRETS_KEY:
    # One machine (./run.sh): a key made on first run and kept beside the database, as SECRET_KEY is; several
    # machines share one through the environment.
    secrets_key_file = VAR_DIR / "secrets_key"
    if not secrets_key_file.exists():
        secrets_key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())  # a Fernet key
        secrets_key_file.chmod(0o600)
    HYPERDATA_SECRETS_KEY = secrets_key_file.read_text().strip()
# --- end source fetching ---

# Previews: tile size of the thumbnails the workers make, and whether writes queue preview jobs at all
# (benchmarks that load a million frames turn it off).
HYPERDATA_TILE_SIZE = env_int("HYPERDATA_TILE_SIZE", 256)
# The size of the large image the film strip and the frame page show for sources a browser cannot display
# (video frames, TIFF): rendered on first view, then kept like the tile previews.
HYPERDATA_VIEW_SIZE = env_int("HYPERDATA_VIEW_SIZE", 1280)
# Images whose long side is larger than this are shown through a deep zoom pyramid (tiles a worker makes on first
# view) instead: beyond the large rendition's size it loses detail, and the original is too heavy for a browser.
HYPERDATA_PYRAMID_MIN_SIDE = env_int("HYPERDATA_PYRAMID_MIN_SIDE", HYPERDATA_VIEW_SIZE)
# The same for formats a browser shows itself (JPEG, PNG, ...): sent whole up to this size (a 16 MP JPEG decodes
# to 64 MB in the browser), as tiles beyond it.
HYPERDATA_PYRAMID_MIN_SIDE_WEB = env_int("HYPERDATA_PYRAMID_MIN_SIDE_WEB", 4096)
HYPERDATA_PREVIEWS_AUTO = env_bool("HYPERDATA_PREVIEWS_AUTO", True)
# Versions with more frames than this get their statistics from a worker after publishing, not in the request.
HYPERDATA_STATS_SYNC_FRAMES = env_int("HYPERDATA_STATS_SYNC_FRAMES", 100000)
# From this many frames a draft child's statistics and counts are derived from its published parent's (below it,
# counting its frames costs less than the few queries a derivation takes).
HYPERDATA_STATS_DERIVE_FRAMES = env_int("HYPERDATA_STATS_DERIVE_FRAMES", 10000)
# From this many frames, publishing a version gives its dataset indexes of its own for the width and height sorts
# (PostgreSQL; frames.services.size_indexes): below it, sorting the version for each page is quick enough.
HYPERDATA_SIZE_INDEX_FRAMES = env_int("HYPERDATA_SIZE_INDEX_FRAMES", 50000)
# From this many frames, publishing a version has a worker copy its frames into columns (frames.columnar), which
# answer most filters' counts and label statistics in milliseconds (PostgreSQL).
HYPERDATA_COLUMNS_FRAMES = env_int("HYPERDATA_COLUMNS_FRAMES", 50000)
# Where a host keeps its copies of the columns, mapped into memory by its web processes (about 1.2 times the
# stored size: 230 MB for a million frames).
HYPERDATA_COLUMNS_DIR = Path(env("HYPERDATA_COLUMNS_DIR", VAR_DIR / "columns"))
# Preview progress of larger versions is counted by a worker (it reads every frame's sources).
HYPERDATA_PROGRESS_SYNC_FRAMES = env_int("HYPERDATA_PROGRESS_SYNC_FRAMES", 20000)

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS: off by default because ./run.sh serves plain http on 127.0.0.1. HYPERDATA_HTTPS=1 turns on all of
# the following (each can still be set on its own); `manage.py check --deploy` is then clean (README, SECURITY).
HTTPS = env_bool("HYPERDATA_HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env("SECURE_PROXY_SSL_HEADER"):  # behind a TLS-terminating proxy, e.g. "X-Forwarded-Proto"
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + env("SECURE_PROXY_SSL_HEADER").upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp): scripts only from this site's files, never inline, so text a user typed
# cannot run even if some page forgot to escape it. Styles keep 'unsafe-inline' (templates and OpenSeadragon set
# style attributes; a style cannot run code). Media may come straight from a bucket: a "signed" source redirects
# the browser to the provider's URL, so images, video and the mask worker's fetches may go to any http(s) host
# unless HYPERDATA_CSP_MEDIA_SOURCES narrows it (e.g. "https://my-bucket.s3.amazonaws.com").
CSP_MEDIA_SOURCES = env_list("HYPERDATA_CSP_MEDIA_SOURCES", "https:,http:")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *CSP_MEDIA_SOURCES],
        "media-src": ["'self'", "blob:", *CSP_MEDIA_SOURCES],
        "connect-src": ["'self'", *CSP_MEDIA_SOURCES],
        "worker-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Password guessing (django-axes): after HYPERDATA_LOGIN_FAILURE_LIMIT failed sign-ins for one user name, or
# from one address, further tries from there (right password included) are refused with 429 for
# HYPERDATA_LOGIN_COOLOFF_MINUTES; on /login/ and on the API's token endpoint alike (both call authenticate()).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("HYPERDATA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("HYPERDATA_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
# Failures age out after the cool-off instead: a success would also wipe its address's count, so an attacker
# signing in to an account of their own between guesses could guess on forever.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address as DRF's throttles see it (REMOTE_ADDR, or X-Forwarded-For behind HYPERDATA_NUM_PROXIES
# proxies): a header a client sets itself is never trusted by default.
AXES_CLIENT_IP_CALLABLE = "frames.api.throttles.client_address"
AXES_VERBOSE = False

# --- Limits on what a client may send (frames/limits.py; the README's Limits table) ---
# Bad input over a limit is a 4xx naming the field and the limit, and nothing is written. One answer for the API,
# the SDK (it goes through the API) and the imports (they validate frames with the same code).
HYPERDATA_MAX_BODY_BYTES = env_int("HYPERDATA_MAX_BODY_BYTES", 64 * 1024**2)  # a JSON or form request body (413)
HYPERDATA_MAX_UPLOAD_BYTES = env_int("HYPERDATA_MAX_UPLOAD_BYTES", 2 * 1024**3)  # a multipart media or import upload (413)
HYPERDATA_MAX_FRAMES_PER_REQUEST = env_int("HYPERDATA_MAX_FRAMES_PER_REQUEST", 10000)  # bulk add, update, delete
HYPERDATA_MAX_POLY_VERTICES = env_int("HYPERDATA_MAX_POLY_VERTICES", 10000)  # x,y pairs of one ROI (poly or key points)
HYPERDATA_MAX_LABELS_PER_ROI = env_int("HYPERDATA_MAX_LABELS_PER_ROI", 100)
HYPERDATA_MAX_META_DEPTH = env_int("HYPERDATA_MAX_META_DEPTH", 10)  # nesting of objects and lists in any metadata
HYPERDATA_MAX_META_BYTES = env_int("HYPERDATA_MAX_META_BYTES", 256 * 1024)  # one metadata object as compact JSON
# Django's own parsing (pages' forms, the non-file fields of a multipart body): the same as the API's.
DATA_UPLOAD_MAX_MEMORY_SIZE = HYPERDATA_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "frames.api.autoschema.ApiAutoSchema",  # documents the error statuses too
    # Parsers that refuse a body over HYPERDATA_MAX_BODY_BYTES (uploads: HYPERDATA_MAX_UPLOAD_BYTES) before reading it.
    "DEFAULT_PARSER_CLASSES": ["frames.api.parsers.JSONParser", "frames.api.parsers.FormParser", "frames.api.parsers.MultiPartParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "frames.api.errors.exception_handler",
    # Only X-Forwarded-For entries added by this many trusted proxies count as the client's address.
    "NUM_PROXIES": env_int("HYPERDATA_NUM_PROXIES", 0),
    # POST /api/auth/token/ per client address (frames/api/throttles.py), beside django-axes' lockout.
    "DEFAULT_THROTTLE_RATES": {"login": env("HYPERDATA_LOGIN_RATE", "10/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HyperData API",
    "DESCRIPTION": "Frame datasets with Git-like versions. Frames use the ClearML Hyper-Datasets JSON form.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Only the login page and /healthz answer anonymous visitors; the schema and its docs page need a login.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI's files come with the sidecar package: the docs page works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The metadata field types appear in two components (a field as written, and as read with `seen`): one enum.
    "ENUM_NAME_OVERRIDES": {"MetaFieldTypeEnum": "frames.selectors.meta_schema.TYPES"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
