#!/bin/sh
# Starts PostgreSQL on $PGDATA, creating the cluster on first start (initdb). A demo database: every
# client is trusted (the pod network and the Service are the boundary, and the demo API regenerates
# the throwaway dataset), it listens on every address, keeps no Unix socket and has no JIT (the image
# leaves LLVM out). PGDATA is a
# subdirectory of the mounted volume, which initdb can then own whatever the volume's permissions.
# Extra arguments go to postgres (e.g. -c shared_buffers=64MB).
set -e
: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --pgdata="$PGDATA" --username=postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
  echo "host all all all trust" >>"$PGDATA/pg_hba.conf"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories='' -c jit=off "$@"
