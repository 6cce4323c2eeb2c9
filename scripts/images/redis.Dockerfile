ARG BASE
FROM ${BASE}
EXPOSE 6379
VOLUME /data
WORKDIR /data
CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--dir", "/data"]
