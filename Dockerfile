# The lab image: the static binary and the shipped plans, nothing else, so it
# builds with no registry to pull from. Built by `make image`, which compiles
# lab with CGO_ENABLED=0 on the host and lays out the build context
# (build/image/: lab and plans/) that this file copies from.
FROM scratch
COPY lab /lab
COPY plans /plans
ENTRYPOINT ["/lab"]
