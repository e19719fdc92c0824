#!/bin/sh
# Builds the raw-epoll HTTP peer into $1 (default: current directory).
set -e
out=${1:-.}
cc -O2 -Wall -Wextra -o "$out/rawepoll-http" "$(dirname "$0")/http_server.c"
