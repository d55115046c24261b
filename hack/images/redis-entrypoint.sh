#!/bin/sh
# `redis-server [--option value]...` runs with protected mode off, as in the official image (which
# patches that default at build time): the pod network and the Service are the boundary, and without it
# Redis refuses clients from other pods. A later `--protected-mode yes` wins; a config file given as the
# first argument is left alone. Any other command runs as given (e.g. redis-cli).
set -e
if [ "${1:-}" = redis-server ]; then
  shift
  case ${1:-} in
    "" | -*) set -- --protected-mode no "$@" ;;
  esac
  exec redis-server "$@"
fi
exec "$@"
