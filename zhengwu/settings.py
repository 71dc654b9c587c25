"""Settings for every profile, read from the environment (one module, nothing only in production).

Embedded default: SQLite in WAL mode under ``var/`` and a SQLite-backed task queue, so a laptop needs no
server. Scale-out: set ``DATABASE_URL=postgres://...`` and ``REDIS_URL=redis://...``; the code paths are
the same. ``ZHENGWU_PROFILE=production`` turns on every transport-security setting that
``manage.py check --deploy`` asks for.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.utils.translation import gettext_lazy as _

from zhengwu.lib.env import env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("ZHENGWU_DATA_DIR", BASE_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

PROFILE = env_str("ZHENGWU_PROFILE", "embedded")  # embedded | production
PRODUCTION = PROFILE == "production"
TESTING = "pytest" in sys.modules or env_bool("ZHENGWU_TESTING")


def _create_once(path: Path, data: bytes) -> None:
    """Create a private file unless it exists. Written aside then hard-linked into place, so processes
    starting together (test workers, gunicorn workers) never read half a file and all keep the winner's."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _secret_from_file(name: str, length: int = 64) -> str:
    """A secret kept in the data directory, created on first use (embedded profile only)."""
    path = DATA_DIR / name
    _create_once(path, secrets.token_urlsafe(length).encode())
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or ("" if PRODUCTION else _secret_from_file("secret_key"))
if PRODUCTION and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure")
):
    raise RuntimeError(
        "生产环境必须设置至少 50 个随机字符的 SECRET_KEY / "
        "SECRET_KEY must be set to at least 50 random characters in production"
    )
# Key for personal data at rest (SM4) and for blind indexes; rotates independently of SECRET_KEY.
FIELD_ENCRYPTION_KEY = env_str("ZHENGWU_FIELD_KEY") or SECRET_KEY

DEBUG = env_bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if not PRODUCTION else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PUBLIC_BASE_URL = env_str("ZHENGWU_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "axes",
    "huey.contrib.djhuey",
    "zhengwu.core",
    "zhengwu.identity",
    "zhengwu.notify",
    "zhengwu.workdays",
    "zhengwu.flow",
    "zhengwu.documents",
    "zhengwu.meetings",
    "zhengwu.workbench",
    "zhengwu.portal",
    "zhengwu.disclosure",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "zhengwu.identity.middleware.IdleTimeoutMiddleware",
    "zhengwu.identity.middleware.RequireSecondFactorMiddleware",
    "zhengwu.core.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhengwu.urls"
WSGI_APPLICATION = "zhengwu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhengwu.core.context_processors.platform",
            ],
        },
    }
]


# --- Database -------------------------------------------------------------------------------------
def _database(url: str) -> dict:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "zhengwu.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
                # so two writers queue instead of failing with "database is locked" on upgrade.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
                    " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": DATA_DIR / "test.sqlite3"} if env_bool("ZHENGWU_TEST_SQLITE_FILE") else {},
        }
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": query,
        }
    if parsed.scheme == "sqlite":
        db = _database("")
        db["NAME"] = Path(unquote(parsed.path))
        return db
    raise RuntimeError(f"Unsupported DATABASE_URL scheme: {parsed.scheme}")


DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {"default": _database(DATABASE_URL)}
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue -------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and TESTING and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Parallel test workers take consecutive Redis databases (the given one, +1, ...), so one worker's
    # cache.clear() never empties another's. bin/test leaves room above its base database.
    _redis = urlparse(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + int(os.environ["PYTEST_XDIST_WORKER"][2:])
    REDIS_URL = _redis._replace(path=f"/{_redis_db}").geturl()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

HUEY_IMMEDIATE = env_bool("ZHENGWU_QUEUE_IMMEDIATE", default=TESTING)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("ZHENGWU_QUEUE_NAME", "zhengwu"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("ZHENGWU_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "zhengwu",
        "filename": str(env_path("ZHENGWU_QUEUE_FILE", DATA_DIR / "queue.sqlite3")),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("ZHENGWU_WORKERS", 2), "worker_type": "thread"},
    }

# --- Identity -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # Django's model backend with a scope: staff and public accounts sign in only on their own page.
    "zhengwu.identity.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "zhengwu.identity.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zhengwu.identity.passwords.BreachedPasswordValidator"},
    {"NAME": "zhengwu.identity.passwords.CharacterClassValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "portal:home"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("ZHENGWU_SESSION_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
IDLE_TIMEOUT_SECONDS = env_int("ZHENGWU_IDLE_MINUTES", 30) * 60

AXES_FAILURE_LIMIT = env_int("ZHENGWU_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("ZHENGWU_LOCKOUT_MINUTES", 30) / 60  # hours
# Lock the account, not the address: hundreds of staff reach the platform from one government network
# behind NAT, and an IP lock would shut a whole county office out after five typos. Password spraying
# across accounts is met by the per-account lock plus the trail's record of every failure.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "zhengwu.identity.views.locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("ZHENGWU_PROXY_COUNT", 0) or None
AXES_ENABLE_ADMIN = False

OTP_TOTP_ISSUER = "Zhengwu 统一电子政务平台"

# OpenID Connect provider (统一身份认证): other systems sign staff in with their platform account.
OIDC_KEY_FILE = env_path("ZHENGWU_OIDC_KEY_FILE", DATA_DIR / "oidc_rsa.pem")


def _oidc_private_key() -> str:
    """The RSA key that signs ID tokens: from the environment, or a file created on first start."""
    if env_str("ZHENGWU_OIDC_KEY"):
        return env_str("ZHENGWU_OIDC_KEY")
    if not OIDC_KEY_FILE.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _create_once(
            OIDC_KEY_FILE,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
    return OIDC_KEY_FILE.read_text()


OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": _("OpenID 身份"),
        "profile": _("姓名与单位"),
        "email": _("电子邮箱"),
        "units": _("所属单位与岗位"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "zhengwu.identity.oidc.ZhengwuOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grants, S256 only, tokens hashed at rest,
    # refresh-token replay revokes the family, `iss` in the authorization response.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and the published site ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env_path("ZHENGWU_STATIC_ROOT", DATA_DIR / "static")
if not PRODUCTION:  # embedded: files come from the finders; whitenoise still wants the directory to exist
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = env_path("ZHENGWU_MEDIA_ROOT", DATA_DIR / "media")
MEDIA_URL = "/media/"
PUBLISH_ROOT = env_path("ZHENGWU_PUBLISH_ROOT", DATA_DIR / "site")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Gateways -------------------------------------------------------------------------------------
SMS_BACKEND = env_str("ZHENGWU_SMS_BACKEND", "zhengwu.notify.gateways.ConsoleSmsBackend")
SMS_FILE_DIR = env_path("ZHENGWU_SMS_FILE_DIR", DATA_DIR / "sms")
SMS_HTTP_URL = env_str("ZHENGWU_SMS_HTTP_URL")
SMS_HTTP_KEY = env_str("ZHENGWU_SMS_HTTP_KEY")
SMS_SIGN_NAME = env_str("ZHENGWU_SMS_SIGN", "政务平台")
SMS_HTTP_KEY_ID = env_str("ZHENGWU_SMS_HTTP_KEY_ID")
SMS_HTTP_TIMEOUT = env_int("ZHENGWU_SMS_HTTP_TIMEOUT", 10)
# Our template ids → the provider's template codes, e.g. "verify_code=SMS_1234,generic=SMS_5678".
SMS_HTTP_TEMPLATE_CODES = dict(item.split("=", 1) for item in env_list("ZHENGWU_SMS_TEMPLATE_CODES"))
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_path("EMAIL_FILE_PATH", DATA_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@zhengwu.local")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Notifications (zhengwu.notify): per-recipient hourly limits, SMS quiet hours ("off" turns them off),
# the sending lease (longer than any gateway timeout) and retries with exponential backoff.
NOTIFY_SMS_HOURLY_LIMIT = env_int("ZHENGWU_SMS_HOURLY_LIMIT", 10)
NOTIFY_EMAIL_HOURLY_LIMIT = env_int("ZHENGWU_EMAIL_HOURLY_LIMIT", 30)
NOTIFY_SMS_QUIET_HOURS = env_str("ZHENGWU_SMS_QUIET_HOURS", "22:00-07:00")
NOTIFY_QUIET_HOURS_TZ = env_str("ZHENGWU_QUIET_HOURS_TZ", "Asia/Shanghai")
NOTIFY_LEASE_SECONDS = env_int("ZHENGWU_NOTIFY_LEASE_SECONDS", 120)
NOTIFY_MAX_ATTEMPTS = env_int("ZHENGWU_NOTIFY_MAX_ATTEMPTS", 6)
NOTIFY_RETRY_BASE_SECONDS = env_int("ZHENGWU_NOTIFY_RETRY_SECONDS", 30)
NOTIFY_REQUEUE_AFTER_SECONDS = env_int("ZHENGWU_NOTIFY_REQUEUE_SECONDS", 900)

# The deadline watch (zhengwu.flow.tasks): when the sweep runs, as the minute field of a crontab ("*" every
# minute, "*/5" every five minutes).
FLOW_DEADLINE_SWEEP_MINUTES = env_str("ZHENGWU_DEADLINE_SWEEP_MINUTES", "*")

# Verification codes for public accounts: one per minute per address, ten per day, twenty per hour per IP;
# a code lives ten minutes and dies after five wrong tries.
VERIFICATION_CODE_TTL_SECONDS = 600
VERIFICATION_CODE_MAX_ATTEMPTS = 5
VERIFICATION_CODE_MIN_INTERVAL_SECONDS = env_int("ZHENGWU_CODE_INTERVAL", 60)
VERIFICATION_CODE_DAILY_LIMIT = env_int("ZHENGWU_CODE_DAILY", 10)
VERIFICATION_CODE_IP_HOURLY_LIMIT = env_int("ZHENGWU_CODE_IP_HOURLY", 20)

# --- The trail ------------------------------------------------------------------------------------
# 网络安全法 第二十一条: logs kept for no less than six months.
AUDIT_RETENTION_DAYS = max(184, env_int("ZHENGWU_AUDIT_RETENTION_DAYS", 184))

# --- Security -------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; the cookie stays plain
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "http:", "https:"],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING" if TESTING else "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # The queue logs every periodic run at INFO (several lines a minute); its own handler is kept
        # off (propagate=False + ours) so that `run_huey` does not print each line twice.
        "huey": {
            "handlers": ["console"],
            "propagate": False,
            "level": env_str("ZHENGWU_QUEUE_LOG_LEVEL", "WARNING"),
        },
        # SpiffWorkflow logs every task state change at INFO: several lines per process step.
        "spiff": {"level": "WARNING"},
    },
}
