# Hearth's production image: one image for web, worker, beat and migrate
# (docker-compose.yml picks the command). Build: docker build -t hearth .
FROM python:3.12-slim

# `pip install .` also copies the packages into site-packages. /app first on
# the path makes every entry point (manage.py, uvicorn, celery) import them
# from /app, so BASE_DIR finds templates/ and static/ there.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    HEARTH_VAR_DIR=/app/var

# A fixed, unprivileged id, so volume ownership is predictable.
RUN groupadd --system --gid 10001 hearth \
    && useradd --system --uid 10001 --gid hearth --no-log-init \
       --home-dir /app --shell /usr/sbin/nologin hearth

WORKDIR /app
COPY . .
RUN pip install .

# Static files are baked into the image (whitenoise serves them). Settings
# refuse to load without a key when DEBUG is off; this one exists only for
# this build step and is not kept in the image's environment.
RUN mkdir -p static var \
    && DEBUG=false SECRET_KEY=collectstatic-build-only-not-a-secret \
       python manage.py collectstatic --noinput \
    && chown -R hearth:hearth var

USER hearth
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--workers", "2", "--proxy-headers", "--ws", "websockets"]
