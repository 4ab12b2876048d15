"""Value pools from the real world: images with their real ports, env vars, probes and users; names,
namespaces, sizes, schedules and hosts that Kubernetes users actually write.

Every image entry was chosen because it runs as a non-root user, so manifests built from it can pass the
``restricted`` Pod Security profile and still start.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Image:
    """A widely used public image and what a manifest needs to run it correctly."""

    key: str
    repository: str
    tags: tuple[str, ...]
    role: str
    """web | api | cache | db | queue | monitoring | batch | agent"""
    port: int | None = None
    port_name: str = "http"
    probe: tuple = ("tcp",)
    """("http", path) | ("tcp",) | ("exec", [command...])"""
    uid: int = 1000
    env: dict[str, str] = field(default_factory=dict)
    secret_env: tuple[str, ...] = ()
    """Variables that hold credentials: they come from a Secret, never a literal."""
    data_path: str | None = None
    writable: tuple[str, ...] = ("/tmp",)
    command: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """How people name the software in requests ("Postgres", "PostgreSQL")."""


IMAGES: tuple[Image, ...] = (
    Image("nginx", "nginxinc/nginx-unprivileged", ("1.27", "1.26", "1.25-alpine"), "web", 8080, "http",
          ("http", "/"), 101, writable=("/tmp",), aliases=("nginx", "NGINX")),
    Image("podinfo", "ghcr.io/stefanprodan/podinfo", ("6.7.0", "6.6.2"), "api", 9898, "http",
          ("http", "/healthz"), 1000, env={"PODINFO_UI_COLOR": "#34577c"}, aliases=("podinfo",)),
    Image("http-echo", "hashicorp/http-echo", ("1.0",), "web", 5678, "http", ("http", "/"), 65532,
          command=("-text=hello",), aliases=("http-echo", "an echo server")),
    Image("redis", "redis", ("7.4", "7.2", "6.2"), "cache", 6379, "redis", ("tcp",), 999, data_path="/data",
          aliases=("Redis", "redis")),
    Image("memcached", "memcached", ("1.6", "1.6.29"), "cache", 11211, "memcached", ("tcp",), 11211,
          aliases=("memcached", "Memcached")),
    Image("postgres", "postgres", ("16.4", "15.8", "17.0"), "db", 5432, "postgres",
          ("exec", ["pg_isready", "-U", "postgres"]), 999,
          env={"POSTGRES_DB": "app", "PGDATA": "/var/lib/postgresql/data/pgdata"},
          secret_env=("POSTGRES_PASSWORD",), data_path="/var/lib/postgresql/data",
          writable=("/tmp", "/var/run/postgresql"), aliases=("PostgreSQL", "Postgres", "postgres")),
    Image("mysql", "mysql", ("8.4", "8.0"), "db", 3306, "mysql", ("exec", ["mysqladmin", "ping", "-h", "127.0.0.1"]),
          999, env={"MYSQL_DATABASE": "app"}, secret_env=("MYSQL_ROOT_PASSWORD",), data_path="/var/lib/mysql",
          writable=("/tmp", "/var/run/mysqld"), aliases=("MySQL", "mysql")),
    Image("mongo", "mongo", ("7.0", "6.0"), "db", 27017, "mongodb", ("tcp",), 999,
          env={"MONGO_INITDB_ROOT_USERNAME": "admin"}, secret_env=("MONGO_INITDB_ROOT_PASSWORD",),
          data_path="/data/db", aliases=("MongoDB", "mongo")),
    Image("rabbitmq", "rabbitmq", ("3.13-management", "3.12"), "queue", 5672, "amqp", ("tcp",), 999,
          env={"RABBITMQ_DEFAULT_USER": "app"}, secret_env=("RABBITMQ_DEFAULT_PASS",), data_path="/var/lib/rabbitmq",
          aliases=("RabbitMQ", "rabbitmq")),
    Image("grafana", "grafana/grafana", ("11.2.0", "10.4.7"), "monitoring", 3000, "http", ("http", "/api/health"),
          472, secret_env=("GF_SECURITY_ADMIN_PASSWORD",), data_path="/var/lib/grafana", aliases=("Grafana",)),
    Image("prometheus", "prom/prometheus", ("v2.54.1", "v2.53.2"), "monitoring", 9090, "web", ("http", "/-/healthy"),
          65534, data_path="/prometheus", aliases=("Prometheus",)),
    Image("node-exporter", "prom/node-exporter", ("v1.8.2", "v1.7.0"), "agent", 9100, "metrics", ("http", "/"),
          65534, aliases=("node-exporter", "the Prometheus node exporter")),
    Image("fluent-bit", "fluent/fluent-bit", ("3.1", "3.0"), "agent", 2020, "http", ("http", "/"), 1000,
          aliases=("Fluent Bit", "fluent-bit")),
    Image("busybox", "busybox", ("1.36", "1.37"), "batch", command=("sh", "-c", "echo hello && sleep 5"),
          uid=1000, aliases=("busybox",)),
    Image("alpine", "alpine", ("3.20", "3.19"), "batch", command=("sh", "-c", "date; echo done"), uid=1000,
          aliases=("alpine",)),
    Image("curl", "curlimages/curl", ("8.9.1", "8.8.0"), "batch", command=("curl", "-fsS", "http://api:8080/healthz"),
          uid=100, aliases=("curl",)),
    Image("kubectl", "bitnami/kubectl", ("1.31", "1.30"), "batch", command=("kubectl", "get", "pods"), uid=1001,
          aliases=("kubectl",)),
)
IMAGE_BY_KEY = {image.key: image for image in IMAGES}

APP_NAMES = ("web", "frontend", "api", "backend", "checkout", "payments", "orders", "inventory", "catalog", "auth",
             "search", "notifications", "billing", "reports", "gateway", "storefront", "profile", "cart", "ledger",
             "shipping", "analytics", "portal", "dashboard", "media")
NAMESPACES = ("default", "shop", "prod", "staging", "dev", "payments", "platform", "monitoring", "data", "batch",
              "ops", "team-a", "apps", "backend")
TEAMS = ("platform", "payments", "growth", "data", "infra", "checkout", "search")
CPU_REQUESTS = ("50m", "100m", "200m", "250m", "500m", "1")
MEMORY_REQUESTS = ("64Mi", "128Mi", "256Mi", "512Mi", "1Gi")
MEMORY_LIMIT_FACTOR = 2
STORAGE_SIZES = ("1Gi", "5Gi", "10Gi", "20Gi", "50Gi", "100Gi")
REPLICAS = (1, 2, 3, 4, 5, 6)
HOSTS = ("shop.example.com", "api.example.com", "app.example.org", "www.example.net", "dashboard.example.com",
         "status.example.io", "internal.example.com")
PATHS = ("/", "/api", "/app", "/v1", "/shop", "/admin")
STORAGE_CLASSES = ("standard", "fast-ssd", "gp3", "premium-rwo")
LOG_LEVELS = ("debug", "info", "warn", "error")
# cron expression -> ways people say it (each phrase names exactly that schedule)
SCHEDULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("*/5 * * * *", ("every 5 minutes", "every five minutes", "once every 5 minutes")),
    ("*/15 * * * *", ("every 15 minutes", "every quarter of an hour")),
    ("0 * * * *", ("every hour on the hour", "hourly, at minute 0", "at the top of every hour")),
    ("0 2 * * *", ("every day at 02:00", "nightly at 2am", "daily at 2 AM")),
    ("30 3 * * *", ("every day at 03:30", "daily at 3:30am")),
    ("0 0 * * *", ("every day at midnight", "daily at 00:00")),
    ("0 9 * * 1-5", ("at 09:00 on weekdays", "every weekday at 9am", "Monday to Friday at 9:00")),
    ("30 3 * * 0", ("every Sunday at 03:30", "weekly on Sunday at 3:30am")),
    ("0 0 1 * *", ("at midnight on the first day of every month", "monthly, on the 1st at 00:00")),
    ("0 6 * * 1", ("every Monday at 06:00", "weekly on Mondays at 6am")),
)
CONFIG_KEYS = ("LOG_LEVEL", "FEATURE_FLAGS", "CACHE_TTL", "TIMEZONE", "MAX_CONNECTIONS", "REGION")
CONFIG_VALUES = {"LOG_LEVEL": LOG_LEVELS, "FEATURE_FLAGS": ("beta,search", "none", "dark-mode"),
                 "CACHE_TTL": ("60", "300", "3600"), "TIMEZONE": ("UTC", "Europe/Berlin", "America/New_York"),
                 "MAX_CONNECTIONS": ("50", "100", "200"), "REGION": ("eu-west-1", "us-east-1", "ap-south-1")}
LABEL_PART_OF = ("shop", "platform", "observability", "billing-suite", "data-pipeline")
