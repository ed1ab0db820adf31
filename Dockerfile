# The chainwatch image used by compose.yaml: the CLI with the worker, loader and tools.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY detectors ./detectors
COPY streams ./streams
RUN pip install --no-cache-dir . && useradd --create-home chainwatch && mkdir -p /data /lake && chown chainwatch /data /lake
USER chainwatch
ENTRYPOINT ["chainwatch"]
