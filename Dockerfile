# imini-mcp in a container. stdio by default (docker run -i); streamable HTTP with IMINI_TRANSPORT=streamable-http.
# Files written inside a container are lost when it is removed: mount a volume on /data (journal + videos).
FROM python:3.12-slim

RUN useradd --create-home --uid 10001 imini && mkdir /data && chown imini /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY imini_mcp ./imini_mcp
# EXTRAS=postgres adds psycopg for a fleet on PostgreSQL (IMINI_DATABASE_URL; deploy/compose.yaml sets it).
ARG EXTRAS=""
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

USER imini
ENV IMINI_JOURNAL_PATH=/data/journal.sqlite3 \
    IMINI_OUTPUT_DIR=/data/videos \
    IMINI_HOST=0.0.0.0 \
    IMINI_PORT=8000 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8000
# In HTTP mode on 0.0.0.0 the server refuses to start without IMINI_MCP_AUTH_TOKEN.
ENTRYPOINT ["imini-mcp"]
