# Steward in one image: the app, the worker and the scoring service are the same package started with
# different commands (see compose.yaml). Dependencies come from requirements.lock, so the image installs
# exactly the versions CI tested.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY steward ./steward
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STEWARD_DATA_DIR=/data \
    STEWARD_APP_ADDRESS=0.0.0.0 \
    STEWARD_SCORING_ADDRESS=0.0.0.0 \
    STEWARD_LOG_FORMAT=json
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir -c /tmp/requirements.lock /tmp/wheels/steward-*.whl \
    && rm -rf /tmp/wheels /tmp/requirements.lock \
    && useradd --create-home --uid 10001 steward \
    && mkdir -p /data && chown steward /data
USER steward
# Streamlit reads .streamlit/secrets.toml (SSO, cookie key) from the folder it starts in: mount it here.
WORKDIR /home/steward
VOLUME ["/data"]
EXPOSE 8501 8600
ENTRYPOINT ["steward"]
CMD ["app"]
