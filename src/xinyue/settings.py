"""Django settings: one module, read from the environment, embedded defaults (DESIGN §3)."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from xinyue import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_from_file("secret_key", "SECRET_KEY")
DEBUG = config.env_bool("XINYUE_DEBUG", False)
ALLOWED_HOSTS = [
    h
    for h in config.env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
    if h
]
CSRF_TRUSTED_ORIGINS = [o for o in config.env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The public base URL, used in links we send out (provider redirects, webhooks).
# Where `xinyue up` binds its web server.
XINYUE_HOST = config.env_str("XINYUE_HOST", "127.0.0.1")
XINYUE_PORT = config.env_int("XINYUE_PORT", 8000)
XINYUE_WEB_WORKERS = config.env_int("XINYUE_WEB_WORKERS", 2)
XINYUE_WEB_THREADS = config.env_int("XINYUE_WEB_THREADS", 4)
# How much lower than the web server `xinyue worker` runs (Unix nice, 0–19): on a machine that
# serves pages too, readers' requests take the cores first and a burst of background work (the
# credit orders of a rush of orders) waits in the queue instead (docs/decisions.md, "The worker
# yields the CPU to requests").
XINYUE_WORKER_NICE = config.env_int("XINYUE_WORKER_NICE", 10)
if not 0 <= XINYUE_WORKER_NICE <= 19:
    raise config.ConfigError(
        f"XINYUE_WORKER_NICE={XINYUE_WORKER_NICE} is outside 0–19 (0: as the web server)"
    )
PUBLIC_BASE_URL = config.env_str("XINYUE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # Swagger UI's files served by us at /api/v1/docs (the CSP allows no CDN)
    "django_tasks",
    "huey.contrib.djhuey",
    # In layering order (docs/architecture.md): each app imports only the apps above it here.
    "xinyue.core",
    "xinyue.libraries",
    "xinyue.suppliers",
    "xinyue.accounts",
    "xinyue.readers",
    "xinyue.credit",
    "xinyue.cards",
    "xinyue.catalog",
    "xinyue.orders",
    "xinyue.circulation",
    "xinyue.sip2",
    "xinyue.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xinyue.core.middleware.RequestLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xinyue.accounts.middleware.ActorMiddleware",
    "xinyue.core.middleware.LazyMessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xinyue.core.middleware.SecurityHeadersMiddleware",
    "xinyue.core.middleware.LoneSurrogateMiddleware",
    "xinyue.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "xinyue.urls"
WSGI_APPLICATION = "xinyue.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xinyue.core.context_processors.platform",
                "xinyue.catalog.context_processors.bookshelf",
                "xinyue.readers.context_processors.messages",
            ],
        },
    }
]

DATABASES = {"default": config.database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = config.env_bool("XINYUE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Background work: Django's Tasks API, run by Huey in the platform's own database (DESIGN §3).
HUEY = config.huey_config(
    DATABASES["default"], immediate=config.env_bool("XINYUE_TASKS_IMMEDIATE", False)
)
TASKS = {
    "default": {
        "BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend",
        "OPTIONS": {"enqueue_on_commit": True},
    }
}

# Platform rules that are configuration rather than data.
XINYUE_TOKEN_AUTHENTICATORS = ["xinyue.accounts.services.authenticate_api_key"]
IDEMPOTENCY_TTL_HOURS = config.env_int("XINYUE_IDEMPOTENCY_TTL_HOURS", 48)
# API rate limits ("N/s", "N/min", "N/h"; empty = off): anonymous per client address, else per
# credential (core/throttling.py).
XINYUE_API_RATE_ANONYMOUS = config.env_str(
    "XINYUE_API_RATE_ANONYMOUS", "600/min", empty_means_off=True
)
XINYUE_API_RATE_AUTHENTICATED = config.env_str(
    "XINYUE_API_RATE_AUTHENTICATED", "6000/min", empty_means_off=True
)
# Each web process counts rate-limited hits in memory and sends them to the shared counter in
# batches of this many hits per caller (at most a twentieth of the limit); a window then admits
# at most limit + processes × batch − 1 (core/throttling.py, docs/decisions.md).
XINYUE_API_RATE_BATCH = config.env_int("XINYUE_API_RATE_BATCH", 20)
# Reverse proxies in front of the web server that append to X-Forwarded-For (0: none, the header
# is ignored and REMOTE_ADDR is the client). Only that many entries from the right are trusted.
XINYUE_TRUSTED_PROXY_COUNT = config.env_int("XINYUE_TRUSTED_PROXY_COUNT", 0)
# Caches: "default" is per process (small read caches); "shared" is the database cache that all
# web processes see (rate-limit counters). Its table is created by migrate (core/0003).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "xinyue_cache",
        "OPTIONS": {"MAX_ENTRIES": 200_000, "CULL_FREQUENCY": 4},
    },
}
# The search result cache (catalog/selectors/search.py, per process): what a search found (page
# ids, total, facets) is kept this many seconds (0 = off) while the catalog generation stands;
# the titles shown and their stock are read fresh. Catalog changes show at once in the process
# that made them and within the check interval in the others. Bounded in memory (MB/process).
XINYUE_SEARCH_CACHE_SECONDS = config.env_float("XINYUE_SEARCH_CACHE_SECONDS", 60.0)
XINYUE_SEARCH_CACHE_MB = config.env_int("XINYUE_SEARCH_CACHE_MB", 16)
# The API search items' JSON (catalog.api.ITEM_JSON), keyed by each title's row as read on the
# request, its stock written in fresh: bounded in memory (MB/process), off with the cache above.
# The answers' envelopes (catalog.api.ENVELOPE_JSON) get a quarter of it besides.
XINYUE_SEARCH_ITEM_CACHE_MB = config.env_int("XINYUE_SEARCH_ITEM_CACHE_MB", 4)
XINYUE_SEARCH_GENERATION_CHECK_MS = config.env_int("XINYUE_SEARCH_GENERATION_CHECK_MS", 100)
# Public hot searches (大家都在搜): a term is shown once this many distinct readers or clients
# searched it in the window (insights/selectors.py).
XINYUE_HOT_SEARCH_MIN_CLIENTS = config.env_int("XINYUE_HOT_SEARCH_MIN_CLIENTS", 3)
WEBHOOK_MAX_ATTEMPTS = config.env_int("XINYUE_WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_TIMEOUT_SECONDS = config.env_int("XINYUE_WEBHOOK_TIMEOUT_SECONDS", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env_str("XINYUE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- readers: PII vault, reader tokens, login throttling, SMS, rights -------------
# Vault keys live outside the database: XINYUE_VAULT_KEYS ("id:algorithm:base64key,…", the first
# is current) or, when unset, a key file generated on first use in the data directory.
XINYUE_VAULT_ALGORITHM = config.env_choice(
    "XINYUE_VAULT_ALGORITHM", "aes-256-gcm", ("aes-256-gcm", "sm4-gcm")
)
XINYUE_VAULT_KEYS = config.env_str("XINYUE_VAULT_KEYS", "")
XINYUE_VAULT_KEY_FILE = config.env_str("XINYUE_VAULT_KEY_FILE", "") or str(
    DATA_DIR / "vault_keys.json"
)
# The blind-index HMAC key (separate from the vault keys): env or a file in the data directory.
XINYUE_BLIND_INDEX_KEY = config.env_str("XINYUE_BLIND_INDEX_KEY", "")
XINYUE_TOKEN_AUTHENTICATORS.append("xinyue.readers.services.tokens.authenticate_reader_token")
XINYUE_READER_TOKEN_TTL_HOURS = config.env_int("XINYUE_READER_TOKEN_TTL_HOURS", 24 * 7)
XINYUE_READER_MIN_AGE = config.env_int("XINYUE_READER_MIN_AGE", 14)
# Failed logins: per ID number and per client IP, within a window, then a lock-out.
XINYUE_LOGIN_MAX_FAILURES_PER_ID = config.env_int("XINYUE_LOGIN_MAX_FAILURES_PER_ID", 5)
XINYUE_LOGIN_MAX_FAILURES_PER_IP = config.env_int("XINYUE_LOGIN_MAX_FAILURES_PER_IP", 30)
XINYUE_LOGIN_WINDOW_MINUTES = config.env_int("XINYUE_LOGIN_WINDOW_MINUTES", 15)
XINYUE_LOGIN_LOCKOUT_MINUTES = config.env_int("XINYUE_LOGIN_LOCKOUT_MINUTES", 15)
# Phone verification by SMS code: off in the embedded demo. The sender is a dotted path; the
# default "outbox" sender only records messages for the dev page /dev/sms-outbox/.
XINYUE_SMS_VERIFICATION = config.env_bool("XINYUE_SMS_VERIFICATION", False)
XINYUE_SMS_SENDER = config.env_str("XINYUE_SMS_SENDER", "xinyue.readers.sms.OutboxSender")
XINYUE_SMS_HTTP_URL = config.env_str("XINYUE_SMS_HTTP_URL", "")  # for readers.sms.HttpSender
XINYUE_SMS_HTTP_SECRET = config.env_str("XINYUE_SMS_HTTP_SECRET", "")
# Notifications: always an in-app message; also sent through each of these senders (comma-
# separated dotted paths, e.g. xinyue.readers.messaging.SmsMessageSender; empty = in-app only).
XINYUE_MESSAGE_SENDERS = [
    p.strip() for p in config.env_str("XINYUE_MESSAGE_SENDERS", "").split(",") if p.strip()
]
XINYUE_MESSAGE_MAX_ATTEMPTS = config.env_int("XINYUE_MESSAGE_MAX_ATTEMPTS", 6)
# A member library's system has this long to answer a card link check (SIP2 or REST).
CARD_LINK_TIMEOUT_SECONDS = config.env_float("XINYUE_CARD_LINK_TIMEOUT", 10.0)
# The SIP2 server for self-service kiosks (``xinyue sip2``; ``xinyue up`` starts it too; port 0
# there leaves it off). Threads = Django work at once = its database connections.
SIP2_HOST = config.env_str("XINYUE_SIP2_HOST", "127.0.0.1")
SIP2_PORT = config.env_int("XINYUE_SIP2_PORT", 6001)
SIP2_THREADS = config.env_int("XINYUE_SIP2_THREADS", 8)
SIP2_IDLE_TIMEOUT_SECONDS = config.env_float("XINYUE_SIP2_IDLE_TIMEOUT", 600.0)
# Every log record passes a filter that masks ID numbers and phone numbers.
LOGGING["filters"] = {"pii": {"()": "xinyue.readers.masking.PiiRedactingFilter"}}
for _handler in LOGGING["handlers"].values():
    _handler.setdefault("filters", []).append("pii")

# --- credit: providers, keys, the sandbox gateway ------------------------------------
# Embedded default: the sandbox gateway mounted in this platform at PUBLIC_BASE_URL/sandbox/zhima/
# (keys generated into CREDIT_KEY_DIR on first use). Real providers need their ids and key files;
# a provider missing them is simply not offered. The sandbox is off unless enabled.
CREDIT_KEY_DIR = Path(config.env_str("XINYUE_CREDIT_KEY_DIR") or DATA_DIR / "credit_keys")
# Off unless asked for: the sandbox lets anyone approve their own credit check. `xinyue up` (the
# demo of `make run`) switches it on, and every page then says so in a banner.
CREDIT_SANDBOX_ENABLED = config.env_bool("XINYUE_CREDIT_SANDBOX", False)
# Every provider call: connect within 3 s, answer within 10 s (background work). A call made while
# a reader waits (starting an authorization) gets 2 s to answer; a slower provider is finished by
# a background task while the page polls.
CREDIT_HTTP_TIMEOUT_SECONDS = config.env_float("XINYUE_CREDIT_HTTP_TIMEOUT", 10.0)
CREDIT_CONNECT_TIMEOUT_SECONDS = config.env_float("XINYUE_CREDIT_CONNECT_TIMEOUT", 3.0)
CREDIT_INTERACTIVE_TIMEOUT_SECONDS = config.env_float("XINYUE_CREDIT_INTERACTIVE_TIMEOUT", 2.0)
# The embedded sandbox is reached in process (no socket: a sync web worker never waits on another).
CREDIT_SANDBOX_IN_PROCESS = config.env_bool("XINYUE_SANDBOX_IN_PROCESS", True)
CREDIT_SANDBOX_TIMEOUT_DELAY_SECONDS = config.env_float("XINYUE_SANDBOX_TIMEOUT_DELAY", 15.0)
# Extra hosts the sandbox may send a reader back to (besides this platform's own).
CREDIT_SANDBOX_REDIRECT_HOSTS: list[str] = []
CREDIT_SANDBOX_APPS: dict[str, str] = {}  # app_id → registered public key file; {} = our own app
CREDIT_PROVIDERS = {
    "sandbox": {
        "app_id": config.env_str("XINYUE_SANDBOX_APP_ID", "2021000000000001"),
        # e.g. http://127.0.0.1:8100/sandbox/zhima/gateway.do for `xinyue sandbox-gateway`
        "gateway_url": config.env_str("XINYUE_SANDBOX_GATEWAY_URL", ""),
        "app_private_key_file": "",  # "" = generated in CREDIT_KEY_DIR
        "gateway_public_key_file": "",
    },
    "zhima": {
        "app_id": config.env_str("XINYUE_ZHIMA_APP_ID", ""),
        "gateway_url": config.env_str(
            "XINYUE_ZHIMA_GATEWAY_URL", "https://openapi.alipay.com/gateway.do"
        ),
        "authorize_url": "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
        "app_private_key_file": config.env_str("XINYUE_ZHIMA_APP_PRIVATE_KEY_FILE", ""),
        "alipay_public_key_file": config.env_str("XINYUE_ZHIMA_ALIPAY_PUBLIC_KEY_FILE", ""),
    },
    "wechat_payscore": {
        "base_url": config.env_str("XINYUE_PAYSCORE_BASE_URL", "https://api.mch.weixin.qq.com"),
        "mchid": config.env_str("XINYUE_PAYSCORE_MCHID", ""),
        "appid": config.env_str("XINYUE_PAYSCORE_APPID", ""),
        "app_secret": config.env_str("XINYUE_PAYSCORE_APP_SECRET", ""),
        "service_id": config.env_str("XINYUE_PAYSCORE_SERVICE_ID", ""),
        "serial_no": config.env_str("XINYUE_PAYSCORE_SERIAL_NO", ""),
        "private_key_file": config.env_str("XINYUE_PAYSCORE_PRIVATE_KEY_FILE", ""),
        "platform_public_key_file": config.env_str("XINYUE_PAYSCORE_PLATFORM_PUBLIC_KEY_FILE", ""),
        "platform_serial": config.env_str("XINYUE_PAYSCORE_PLATFORM_SERIAL", ""),
        "api_v3_key": config.env_str("XINYUE_PAYSCORE_API_V3_KEY", ""),
    },
}

# --- catalog and insights ---------------------------------------------------------------------
XINYUE_SHELF_LIMIT = config.env_int("XINYUE_SHELF_LIMIT", 100)  # titles on one bookshelf
# Usage events are buffered per process and written in batches: at this many, or after this many
# seconds (by a flusher thread that starts with the first event a process records).
XINYUE_EVENTS_BATCH_SIZE = config.env_int("XINYUE_EVENTS_BATCH_SIZE", 500)
XINYUE_EVENTS_FLUSH_SECONDS = config.env_float("XINYUE_EVENTS_FLUSH_SECONDS", 1.0)
XINYUE_EVENTS_FLUSH_THREAD = True

# --- orders -----------------------------------------------------------------------------------
# The operator's ordering rules are kept per process for this many seconds (0 = read every time;
# the process that changes them forgets them at once, others within this long; core/microcache.py).
XINYUE_ORDER_RULES_CACHE_SECONDS = config.env_float("XINYUE_ORDER_RULES_CACHE_SECONDS", 5.0)
