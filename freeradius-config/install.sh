#!/bin/sh
# Installs the Tessera module, policy and virtual server into a FreeRADIUS 3.2
# configuration tree and enables them.
#
#   freeradius-config/install.sh /etc/freeradius/3.0
#
# Idempotent. Does not touch clients.conf or the other sites: see README.md.
set -eu

RADDB_DIR="${1:-}"
if [ -z "$RADDB_DIR" ] || [ ! -f "$RADDB_DIR/radiusd.conf" ]; then
	echo "usage: $0 RADDB_DIR   (a FreeRADIUS 3.2 tree holding radiusd.conf, e.g. /etc/freeradius/3.0)" >&2
	exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"

for dir in mods-available mods-enabled sites-available sites-enabled policy.d; do
	mkdir -p "$RADDB_DIR/$dir"
done

# install(1) keeps the files readable by the server's group, as Debian's tree does.
install -m 0640 "$HERE/mods-available/tessera" "$RADDB_DIR/mods-available/tessera"
install -m 0640 "$HERE/sites-available/tessera" "$RADDB_DIR/sites-available/tessera"
install -m 0640 "$HERE/policy.d/tessera" "$RADDB_DIR/policy.d/tessera"

ln -sfn ../mods-available/tessera "$RADDB_DIR/mods-enabled/tessera"
ln -sfn ../sites-available/tessera "$RADDB_DIR/sites-enabled/tessera"

# Debian's tree belongs to freerad; keep it so when installing as root.
if [ "$(id -u)" = 0 ] && getent group freerad >/dev/null 2>&1; then
	chgrp freerad "$RADDB_DIR/mods-available/tessera" "$RADDB_DIR/sites-available/tessera" "$RADDB_DIR/policy.d/tessera" || true
fi

echo "Tessera installed into $RADDB_DIR (mods-enabled/tessera, sites-enabled/tessera, policy.d/tessera)."
echo "Set TESSERA_URL, TESSERA_API_KEY and TESSERA_RADIUS_PORT in the server's environment"
echo "(Debian: /etc/default/freeradius), then check with: freeradius -XC -d $RADDB_DIR"
