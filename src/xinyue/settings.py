"""Django settings: one module, read from the environment, embedded defaults (DESIGN §3)."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from xinyue import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_from_file("secret_key", "SECRET_KEY")
DEBUG = config.env_bool("XINYUE_DEBUG", False)
ALLOWED_HOSTS = [
    h
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
    if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The public base URL, used in links we send out (provider redirects, webhooks).
PUBLIC_BASE_URL = os.environ.get("XINYUE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

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
    "xinyue.core",
    "xinyue.accounts",
    "xinyue.libraries",
    "xinyue.readers",
    "xinyue.credit",
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
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xinyue.core.middleware.SecurityHeadersMiddleware",
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
# API rate limits ("N/s", "N/min", "N/h"; empty = off): anonymous per client IP, else per credential.
XINYUE_API_RATE_ANONYMOUS = os.environ.get("XINYUE_API_RATE_ANONYMOUS", "600/min")
XINYUE_API_RATE_AUTHENTICATED = os.environ.get("XINYUE_API_RATE_AUTHENTICATED", "6000/min")
WEBHOOK_MAX_ATTEMPTS = config.env_int("XINYUE_WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_TIMEOUT_SECONDS = config.env_int("XINYUE_WEBHOOK_TIMEOUT_SECONDS", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINYUE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- readers (READERS-ID): PII vault, reader tokens, login throttling, SMS, rights -------------
# Vault keys live outside the database: XINYUE_VAULT_KEYS ("id:algorithm:base64key,…", the first
# is current) or, when unset, a key file generated on first use in the data directory.
XINYUE_VAULT_ALGORITHM = os.environ.get("XINYUE_VAULT_ALGORITHM", "aes-256-gcm")  # or sm4-gcm
XINYUE_VAULT_KEYS = os.environ.get("XINYUE_VAULT_KEYS", "")
XINYUE_VAULT_KEY_FILE = os.environ.get("XINYUE_VAULT_KEY_FILE", "") or str(
    DATA_DIR / "vault_keys.json"
)
# The blind-index HMAC key (separate from the vault keys): env or a file in the data directory.
XINYUE_BLIND_INDEX_KEY = os.environ.get("XINYUE_BLIND_INDEX_KEY", "")
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
XINYUE_SMS_SENDER = os.environ.get("XINYUE_SMS_SENDER", "xinyue.readers.sms.OutboxSender")
XINYUE_SMS_HTTP_URL = os.environ.get("XINYUE_SMS_HTTP_URL", "")  # for readers.sms.HttpSender
XINYUE_SMS_HTTP_SECRET = os.environ.get("XINYUE_SMS_HTTP_SECRET", "")
# Other apps plug into the reader's rights (dotted paths of functions taking ``reader=``):
# open obligations block account deletion (each returns a list of reasons), exporters add a
# section to the data export (return (name, data)), erasers run inside the deletion.
XINYUE_READER_OBLIGATION_CHECKERS: list[str] = []
XINYUE_READER_EXPORTERS: list[str] = []
XINYUE_READER_ERASERS: list[str] = []
# (CAT-PORTAL) The bookshelf joins the export; the shelf and the reader's link to their usage
# events go with the account.
XINYUE_READER_EXPORTERS.append("xinyue.catalog.services.bookshelf.export_shelf")
XINYUE_READER_ERASERS += [
    "xinyue.catalog.services.bookshelf.erase_shelf",
    "xinyue.insights.services.erase_reader_events",
]
# (READERS-CARDS) The reader's card link requests and manual reviews join the export; open ones
# are withdrawn (and the reader's text in them erased) when the account is deleted. A member
# library's system has this long to answer a card link check (SIP2 or REST).
XINYUE_READER_EXPORTERS.append("xinyue.readers.selectors.cards.export_card_requests")
XINYUE_READER_ERASERS.append("xinyue.readers.services.cards.erase_card_requests")
CARD_LINK_TIMEOUT_SECONDS = float(os.environ.get("XINYUE_CARD_LINK_TIMEOUT", "10"))
# Every log record passes a filter that masks ID numbers and phone numbers.
LOGGING["filters"] = {"pii": {"()": "xinyue.readers.masking.PiiRedactingFilter"}}
for _handler in LOGGING["handlers"].values():
    _handler.setdefault("filters", []).append("pii")

# --- credit (CREDIT): providers, keys, the sandbox gateway ------------------------------------
# Embedded default: the sandbox gateway mounted in this platform at PUBLIC_BASE_URL/sandbox/zhima/
# (keys generated into CREDIT_KEY_DIR on first use). Real providers need their ids and key files;
# a provider missing them is simply not offered. Turn the sandbox off in production.
CREDIT_KEY_DIR = Path(os.environ.get("XINYUE_CREDIT_KEY_DIR") or DATA_DIR / "credit_keys")
CREDIT_SANDBOX_ENABLED = config.env_bool("XINYUE_CREDIT_SANDBOX", True)
CREDIT_HTTP_TIMEOUT_SECONDS = float(os.environ.get("XINYUE_CREDIT_HTTP_TIMEOUT", "10"))
# The embedded sandbox is reached in process (no socket: a sync web worker never waits on another).
CREDIT_SANDBOX_IN_PROCESS = config.env_bool("XINYUE_SANDBOX_IN_PROCESS", True)
CREDIT_SANDBOX_TIMEOUT_DELAY_SECONDS = float(os.environ.get("XINYUE_SANDBOX_TIMEOUT_DELAY", "15"))
CREDIT_SANDBOX_APPS: dict[str, str] = {}  # app_id → registered public key file; {} = our own app
CREDIT_PROVIDERS = {
    "sandbox": {
        "app_id": os.environ.get("XINYUE_SANDBOX_APP_ID", "2021000000000001"),
        # e.g. http://127.0.0.1:8100/sandbox/zhima/gateway.do for `xinyue sandbox-gateway`
        "gateway_url": os.environ.get("XINYUE_SANDBOX_GATEWAY_URL", ""),
        "app_private_key_file": "",  # "" = generated in CREDIT_KEY_DIR
        "gateway_public_key_file": "",
    },
    "zhima": {
        "app_id": os.environ.get("XINYUE_ZHIMA_APP_ID", ""),
        "gateway_url": os.environ.get(
            "XINYUE_ZHIMA_GATEWAY_URL", "https://openapi.alipay.com/gateway.do"
        ),
        "authorize_url": "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
        "app_private_key_file": os.environ.get("XINYUE_ZHIMA_APP_PRIVATE_KEY_FILE", ""),
        "alipay_public_key_file": os.environ.get("XINYUE_ZHIMA_ALIPAY_PUBLIC_KEY_FILE", ""),
    },
    "wechat_payscore": {
        "base_url": os.environ.get("XINYUE_PAYSCORE_BASE_URL", "https://api.mch.weixin.qq.com"),
        "mchid": os.environ.get("XINYUE_PAYSCORE_MCHID", ""),
        "appid": os.environ.get("XINYUE_PAYSCORE_APPID", ""),
        "app_secret": os.environ.get("XINYUE_PAYSCORE_APP_SECRET", ""),
        "service_id": os.environ.get("XINYUE_PAYSCORE_SERVICE_ID", ""),
        "serial_no": os.environ.get("XINYUE_PAYSCORE_SERIAL_NO", ""),
        "private_key_file": os.environ.get("XINYUE_PAYSCORE_PRIVATE_KEY_FILE", ""),
        "platform_public_key_file": os.environ.get("XINYUE_PAYSCORE_PLATFORM_PUBLIC_KEY_FILE", ""),
        "platform_serial": os.environ.get("XINYUE_PAYSCORE_PLATFORM_SERIAL", ""),
        "api_v3_key": os.environ.get("XINYUE_PAYSCORE_API_V3_KEY", ""),
    },
}
# The credit app's part in a reader's export and account deletion (READERS-ID's hooks).
XINYUE_READER_EXPORTERS.append("xinyue.credit.services.rights.export_credit")
XINYUE_READER_OBLIGATION_CHECKERS.append("xinyue.credit.services.rights.open_credit_obligations")
XINYUE_READER_ERASERS.append("xinyue.credit.services.rights.erase_credit")
