# One image for every Rushes service: the pinned runtime environment (requirements.lock; the test,
# lint and chart tools of the dev lock never enter an image), the service picked at run time:
#   docker run rushes-service python -m rushes_ingest
# Build from the repository root: docker build -f docker/service.Dockerfile .
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock ./
RUN python -m venv /opt/rushes \
    && /opt/rushes/bin/pip install --no-deps -r requirements.lock
COPY proto ./proto
COPY libs ./libs
COPY services ./services
# libs/testing is the pytest plugin and fixtures: test code, left out of the image.
RUN /opt/rushes/bin/python libs/proto/generate.py \
    && rm -rf libs/testing \
    && /opt/rushes/bin/pip install --no-deps libs/* services/*

FROM python:3.11.7-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/rushes --create-home rushes
COPY --from=build /opt/rushes /opt/rushes
# In a pod the ports are reached over the pod network: bind all interfaces there (loopback locally).
ENV PATH=/opt/rushes/bin:$PATH PYTHONUNBUFFERED=1 RUSHES_STATE_DIR=/var/lib/rushes \
    RUSHES_GRPC__ADDRESS=0.0.0.0:50051 RUSHES_METRICS_ADDRESS=0.0.0.0 RUSHES_METRICS_PORT=9100
USER 10001
WORKDIR /var/lib/rushes
EXPOSE 50051 9100
CMD ["python", "-m", "rushes_ingest"]
