# syntax=docker/dockerfile:1
# The edossier application image: API (`serve`), job workers (`worker`) and one-shot `init`.
# ClamAV runs as its own service (clamd); the object store and PostgreSQL too (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# fonts-wqy-microhei: Chinese glyphs for the PDF detection reports and 台账 exports (integrity/reports/render_pdf.py);
# tzdata: alert schedules in Asia/Shanghai (zoneinfo).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei tzdata \
    && rm -rf /var/lib/apt/lists/*

# Install the project (pyproject.toml) and nothing of the build context afterwards.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY standards ./standards
COPY integrity ./integrity
COPY archive ./archive
COPY api ./api
RUN pip install . \
    && rm -rf /build

# A non-root user; the data directory (signing keys in keys/, staging) is a volume it owns, 0700.
RUN groupadd --system --gid 10001 edossier \
    && useradd --system --uid 10001 --gid edossier --home-dir /var/lib/edossier --no-create-home \
        --shell /usr/sbin/nologin edossier \
    && install -d -o edossier -g edossier -m 0700 /var/lib/edossier
ENV EDOSSIER_DATA_DIR=/var/lib/edossier
USER edossier:edossier
WORKDIR /var/lib/edossier

EXPOSE 8000
# Liveness of `edossier serve` (slim has no curl); worker containers override it in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"]

ENTRYPOINT ["edossier"]
CMD ["--help"]
