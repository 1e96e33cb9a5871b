# Triton Inference Server carrying the project's model repository (models/). Locally and in CI the
# same tritonserver binary runs from the nvidia-pytriton wheel; on GPU nodes use NVIDIA's image of
# the same release (2.51) as the base and the models' KIND_GPU instance groups.
# Build from the repository root: docker build -f docker/triton.Dockerfile .
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/rushes \
    && /opt/rushes/bin/pip install --no-deps -r requirements.lock
# The entrypoint uses rushes_stack (which imports the other libs) and the models import
# rushes_triton_backend: every lib but the pytest plugin, with the generated proto code.
COPY proto ./proto
COPY libs ./libs
RUN /opt/rushes/bin/python libs/proto/generate.py \
    && rm -rf libs/testing \
    && /opt/rushes/bin/pip install --no-deps libs/*

FROM python:3.11.7-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/triton --create-home triton
COPY --from=build /opt/rushes /opt/rushes
COPY models /models
COPY docker/triton_entrypoint.py /opt/rushes/triton_entrypoint.py
ENV PATH=/opt/rushes/bin:$PATH RUSHES_STATE_DIR=/var/lib/triton
USER 10001
EXPOSE 8000 8001 8002
ENTRYPOINT ["python", "/opt/rushes/triton_entrypoint.py"]
