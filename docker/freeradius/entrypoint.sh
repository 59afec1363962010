#!/bin/sh
# The client key is made by the cluster's setup service: wait for its file, then run in the foreground.
set -eu
: "${RADIUS_SECRET:?set RADIUS_SECRET, the NAS shared secret}"
if [ -z "${TESSERA_API_KEY:-}" ] && [ -n "${TESSERA_API_KEY_FILE:-}" ]; then
	i=0
	while [ ! -s "$TESSERA_API_KEY_FILE" ]; do
		i=$((i + 1))
		[ "$i" -le 300 ] || { echo "no client key in $TESSERA_API_KEY_FILE after 300 s" >&2; exit 1; }
		sleep 1
	done
	TESSERA_API_KEY="$(cat "$TESSERA_API_KEY_FILE")"
	export TESSERA_API_KEY
fi
export RADIUS_SECRET TESSERA_URL
exec freeradius -f -l stdout -d /etc/freeradius/3.0 "$@"
