# The jibri-pod-controller image: built on Debian bookworm from the same package list and
# cmake commands as hack/test, then copied onto bookworm-slim with only the libraries the
# binary links (hack/runtime-packages.txt, checked by hack/check-runtime-libs).
#
#   docker build -t jibri-pod-controller:0.1.0 .

FROM debian:bookworm-slim AS build

WORKDIR /src

# The package list first, so that the installed toolchain stays cached while the
# sources change. hack/install-deps installs everything hack/packages.txt lists,
# including the test tools, but only the build stage carries them.
COPY hack/install-deps hack/packages.txt hack/
RUN hack/install-deps && rm -rf /var/lib/apt/lists/*

# BUILD_TESTING=OFF leaves test/ and bench/ out of the configuration, so the operator's
# sources are all the image needs.
COPY CMakeLists.txt ./
COPY operator/ operator/
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DJPC_WERROR=OFF -DBUILD_TESTING=OFF \
    && cmake --build /build --target jibri-pod-controller -j "$(nproc)"

# Stops the build when the runtime stage below would lack a library the binary links.
COPY hack/check-runtime-libs hack/runtime-packages.txt hack/
RUN hack/check-runtime-libs /build/operator/jibri-pod-controller

FROM debian:bookworm-slim

COPY hack/runtime-packages.txt /tmp/runtime-packages.txt
RUN set -eu; \
    packages=$(sed -e 's/#.*//' /tmp/runtime-packages.txt | xargs); \
    apt-get update -q; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt; \
    groupadd --gid 1000 jibri-pod-controller; \
    useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin jibri-pod-controller

COPY --from=build /build/operator/jibri-pod-controller /usr/local/bin/jibri-pod-controller

# The chart's runAsUser and runAsGroup match this user.
USER 1000:1000
# The webhook, /metrics, /healthz and /readyz (--port, PORT).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/jibri-pod-controller"]
