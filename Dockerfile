# The mmrag app: web UI, CLI and API in one image. Built by docker-compose.yml (service
# "app"); the data directory is the volume at /data, the store a Qdrant server.
#   docker build -t mmrag .                     CPU torch (the default)
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t mmrag .
FROM python:3.11.14-slim-bookworm

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG EXTRAS=ui,media,ocr,office,distributed

# LibreOffice converts office files to PDF (the office extra); espeak-ng is not needed here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libreoffice-impress libreoffice-writer libreoffice-calc \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 mmrag
WORKDIR /app

COPY pyproject.toml README.md ./
COPY rag ./rag
COPY ingest ./ingest
COPY ui ./ui
COPY sample_data ./sample_data
RUN pip install --no-cache-dir --extra-index-url "${TORCH_INDEX}" ".[${EXTRAS}]"

ENV RAG_DATA_DIR=/data \
    RAG_UI_HOST=0.0.0.0 \
    RAG_UI_PORT=7860 \
    PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown mmrag:mmrag /data
VOLUME ["/data"]
USER 1000:1000
EXPOSE 7860

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"]

CMD ["rag", "ui"]
