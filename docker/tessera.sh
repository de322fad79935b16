#!/bin/sh
# `tessera` on PATH for quorum-peerd (PRIVACY=auto looks for it there): runs
# the distribution copied from the official Tessera image, whose start script
# finds java on PATH (Debian's openjdk-17-jre-headless).
exec /tessera/bin/tessera "$@"
