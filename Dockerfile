# LeadSonar's image: the API (`leadsonar serve`) and the queue worker (`leadsonar worker`) alike.
# Built by compose.yaml; dependencies come from requirements.lock, exactly as `./run` installs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app leadsonar
USER leadsonar

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('LEADSONAR_PORT', '8000') + '/healthz', timeout=2)"]
ENTRYPOINT ["leadsonar"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
