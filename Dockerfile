# The incident bot as a small image: `docker build -t incident-bot .`, then
# `docker run -p 3000:3000 -v incident-data:/data --env-file .env incident-bot`
# (README: "Deploying in a container or on a PaaS").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000 \
    RUNBOOKS_DIR=/app/runbooks \
    DATABASE_URL=sqlite+aiosqlite:////data/incidents.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf build ./bot ./*.egg-info
COPY runbooks ./runbooks

# never root: a user of its own, owning only the SQLite volume
RUN useradd --system --uid 10001 --no-create-home --home-dir /app incident-bot \
    && mkdir /data && chown incident-bot /data
VOLUME ["/data"]
USER incident-bot

EXPOSE 3000
# /healthz: 200 while the database takes writes, 503 (urlopen raises, exit 1) otherwise
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# migrates the database at start, as everywhere else
CMD ["python", "-m", "bot"]
