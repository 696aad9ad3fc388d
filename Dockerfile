# Herald in a container: the self-contained binary of ./build.sh on a small base with no .NET runtime in it.
#
#   docker build -t herald .
#   docker run -p 6552:6552 -v herald-data:/data herald
#
# docs/install.md ("Container") lists the settings a container usually needs (API keys, UDP senders).

# Build stage: the SDK image runs the same ./build.sh as a developer does, on the builder's own platform (the binary
# for another architecture is cross-built, no emulation needed).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The commit `herald version` prints; .git is not copied into the build (see .dockerignore), so pass it:
#   docker build --build-arg HERALD_COMMIT=$(git rev-parse HEAD) -t herald .
ARG HERALD_COMMIT=
# BuildKit sets TARGETARCH (amd64, arm64) for the platform being built: docker buildx build --platform linux/arm64 ...
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN rid="linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
 && HERALD_COMMIT="$HERALD_COMMIT" ./build.sh "$rid" \
 && mkdir -p /out && cp "dist/herald-$rid/herald" /out/herald

# Runtime stage: runtime-deps holds only what a self-contained .NET binary needs from the OS (libc, libstdc++, OpenSSL
# for Redis TLS and JWKS over https, CA certificates), no .NET runtime and no SDK.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
# A fixed, unprivileged user that owns /data and nothing else.
RUN groupadd --system --gid 10001 herald \
 && useradd --system --uid 10001 --gid herald --home-dir /data --no-create-home --shell /usr/sbin/nologin herald \
 && mkdir -p /data && chown herald:herald /data
COPY --from=build /out/herald /usr/local/bin/herald
# Listen on every interface of the container, UDP included (the host's port mapping decides who reaches it); UDP
# datagrams are still accepted only from the addresses in udp_allow, loopback by default: set HERALD_UDP_ALLOW to
# your backends' network (and HERALD_UDP_SECRET) to publish over UDP from outside the container.
# The binary unpacks SQLite's native library once per start; /tmp keeps it out of the data volume.
ENV HERALD_HOST=0.0.0.0 \
    HERALD_UDP_HOST=0.0.0.0 \
    HERALD_DATA_DIR=/data \
    DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp
VOLUME ["/data"]
WORKDIR /data
EXPOSE 6552/tcp 6553/udp
USER herald
# /health answers 200 while the node serves ("ok", or "degraded" while its store or Redis fails: restarting would not
# help, and it still serves its connections) and 503 while starting or stopping. The base image has bash but no curl:
# one HTTP/1.0 request over bash's /dev/tcp, healthy when the status line says 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6552 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["herald"]
CMD ["serve"]
