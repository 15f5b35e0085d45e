"""Hearth settings: one env-driven module.

With no environment set, everything runs embedded (SQLite, the in-process
channel layer, a filesystem Celery broker, a file outbox for email). Setting
DATABASE_URL and REDIS_URL moves the same code onto PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env("HEARTH_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Exact origins (scheme://host[:port]) allowed to open WebSockets and to post
# forms; no wildcards, no leading dots.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
TRUSTED_ORIGINS = env.list(
    "TRUSTED_ORIGINS",
    default=[SITE_URL, "http://localhost:8000"] if DEBUG else [SITE_URL],
)
CSRF_TRUSTED_ORIGINS = TRUSTED_ORIGINS

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "groups",
    "prompts",
    "safety",
    "facilitation",
    "reminders",
    "journal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hearth.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock up front (no upgrade deadlocks).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=20000;"
        ),
    }
    # A file (Channels' live server refuses in-memory SQLite), one per test
    # process so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-hearth-{os.getpid()}.sqlite3")
    }
else:
    # Under ASGI, persistent per-thread connections leak across event-loop
    # threads, so CONN_MAX_AGE stays 0 and a psycopg pool keeps connections
    # warm instead of opening one per request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # One test database per test process, so parallel runs never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    }
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", 5)
    if env.bool("DB_POOL", default=True):
        _options["pool"] = {
            "min_size": 1,
            "max_size": env.int("DB_POOL_MAX_SIZE", default=12),
            "timeout": 10,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis-backed services -----------------------------------------------
REDIS_URL = env("REDIS_URL", default="")


def _redis_db(url: str, db: int) -> str:
    """The same Redis server, another logical database per concern."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": env("CACHE_URL", default=_redis_db(REDIS_URL, 1)),
            "KEY_PREFIX": "hearth",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [env("CHANNELS_URL", default=_redis_db(REDIS_URL, 2))],
                "capacity": 200,
                "expiry": 60,
                # Longer than any socket lives between re-joins (see docs).
                "group_expiry": 86400,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    default=_redis_db(REDIS_URL, 0) if REDIS_URL else "filesystem://",
)
CELERY_BROKER_DIR = VAR_DIR / "celery" / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Interval schedules only, in UTC: local-time crontabs misfire around DST.
CELERY_BEAT_SCHEDULE = {
    "extend-recurring-series": {
        "task": "groups.tasks.extend_series",
        "schedule": 3600.0,
    },
    # Finds due reminders, reflection invitations and summaries, records each
    # delivery, then sends; the database row is the source of truth.
    "reminders-sweep": {"task": "reminders.tasks.sweep", "schedule": 60.0},
    "chat-retention": {"task": "reminders.tasks.apply_retention", "schedule": 86400.0},
    # Imminent-risk alerts nobody acknowledged are escalated to the site's
    # safety contacts (safety/services/alerts.py).
    "safety-escalate": {"task": "safety.tasks.escalate_alerts", "schedule": 60.0},
}

# --- Email ----------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Hearth <hearth@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = env("EMAIL_URL", default="")
OUTBOX_DIR = VAR_DIR / "outbox"
if EMAIL_URL:
    _email = environ.Env.email_url_config(EMAIL_URL)
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {
                "host": _email.get("EMAIL_HOST", "localhost"),
                "port": _email.get("EMAIL_PORT", 25),
                "username": _email.get("EMAIL_HOST_USER", ""),
                "password": _email.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": bool(_email.get("EMAIL_USE_TLS", False)),
                "use_ssl": bool(_email.get("EMAIL_USE_SSL", False)),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "accounts.mail.OutboxBackend",
            "OPTIONS": {"directory": str(OUTBOX_DIR)},
        }
    }

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Hearth: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Hearth"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- I18N / time ------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis in production) and written
# through to the database: every page and room handshake reads one.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if not SECURE_SSL_REDIRECT:
        # TLS and the http→https redirect are the reverse proxy's job then.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging: structured, never message or reflection text --------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- Product policies (documented in README) ----------------------------
HEARTH = {
    "SERIES_HORIZON_DAYS": env.int("HEARTH_SERIES_HORIZON_DAYS", default=120),
    "INVITATION_DEFAULT_DAYS": 14,
    "DIRECTORY_PAGE_SIZE": 20,
    # Live rooms (README.md, Configuration; docs/protocol.md).
    "CHAT_MAX_CHARS": env.int("HEARTH_CHAT_MAX_CHARS", default=2000),
    "FRAME_MAX_BYTES": 8192,
    "CHAT_RATE_PER_MINUTE": env.int("HEARTH_CHAT_RATE_PER_MINUTE", default=30),
    "CHAT_BURST": env.int("HEARTH_CHAT_BURST", default=10),
    "FLOOD_BREACHES": 3,
    "FLOOD_WINDOW_SECONDS": 300,
    "FLOOD_MUTE_SECONDS": 300,
    "REACTIONS_PER_MINUTE": 40,
    "MAX_ROOM_CONNECTIONS": 5,
    "PRESENCE_TTL_SECONDS": 90,
    # A facilitator whose room tab has been hidden longer than this no
    # longer counts as watching: imminent alerts are emailed (docs/safety.md).
    "ALERT_VISIBLE_SECONDS": env.int("HEARTH_ALERT_VISIBLE_SECONDS", default=60),
    # A dropped socket counts as leaving only if it is not back this soon.
    "PRESENCE_GRACE_SECONDS": env.float("HEARTH_PRESENCE_GRACE_SECONDS", default=5.0),
    "RESUME_LIMIT": 2000,
    "CHECKIN_MIN_ANSWERS": 3,
    # Reminders and follow-ups (README.md, Configuration); minutes unless named.
    "REMINDER_OFFSETS_MINUTES": [24 * 60, 60],
    "REFLECTION_DELAY_MINUTES": env.int("HEARTH_REFLECTION_DELAY_MINUTES", default=120),
    "SUMMARY_DELAY_MINUTES": env.int("HEARTH_SUMMARY_DELAY_MINUTES", default=24 * 60),
    "RETENTION_DAYS": env.int("HEARTH_RETENTION_DAYS", default=30),
}

# Who is emailed at once when an imminent-risk alert fires with no
# facilitator in the room, besides the group's facilitators (docs/safety.md).
HEARTH_SAFETY_CONTACTS = env.list("HEARTH_SAFETY_CONTACTS", default=[])
