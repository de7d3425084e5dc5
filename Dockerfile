# One image for every Squall role; the role is chosen by the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY engine ./engine
COPY actions ./actions
COPY triggers ./triggers
COPY squall ./squall
RUN pip install . && useradd --system --uid 10001 squall

USER squall
EXPOSE 8989
ENTRYPOINT ["squall"]
CMD ["run", "--role", "all"]
