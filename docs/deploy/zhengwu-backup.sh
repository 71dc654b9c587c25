#!/usr/bin/env bash
# Nightly backup of a Zhengwu installation: the database (pg_dump, or SQLite's online backup), the data
# directory (uploads, keys) and the settings, into /var/backups/zhengwu; older than KEEP_DAYS removed.
# Verifies the trail first and records the result beside the backup. Run by zhengwu-backup.timer.
set -euo pipefail
set -a; . /etc/zhengwu/zhengwu.env; set +a
DEST="${BACKUP_DIR:-/var/backups/zhengwu}"
KEEP_DAYS="${KEEP_DAYS:-30}"
APP=/opt/zhengwu
stamp="$(date +%Y%m%d-%H%M%S)"
mkdir -p "$DEST" && chmod 0700 "$DEST"
cd "$APP"

# The trail is checked before it is copied: a broken chain is reported, and the backup still runs.
if ! runuser -u zhengwu -- "$APP/.venv/bin/zhengwu" audit verify >"$DEST/audit-verify-$stamp.txt" 2>&1; then
  echo "WARNING: trail verification failed, see $DEST/audit-verify-$stamp.txt" >&2
fi

if [ -n "${DATABASE_URL:-}" ]; then
  pg_dump --format=custom --no-owner --file="$DEST/db-$stamp.dump" "$DATABASE_URL"
else
  runuser -u zhengwu -- "$APP/.venv/bin/python" - "$ZHENGWU_DATA_DIR/zhengwu.sqlite3" "$DEST/db-$stamp.sqlite3" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)  # consistent copy while the platform keeps running (WAL)
dst.close(); src.close()
PY
fi
tar --create --gzip --file="$DEST/files-$stamp.tar.gz" \
  --exclude="$ZHENGWU_DATA_DIR/zhengwu.sqlite3*" --exclude="$ZHENGWU_DATA_DIR/queue.sqlite3*" \
  "$ZHENGWU_DATA_DIR" /etc/zhengwu "${ZHENGWU_PUBLISH_ROOT:-/var/www/zhengwu/site}" 2>/dev/null || true
chmod 0600 "$DEST"/*-"$stamp"*
find "$DEST" -maxdepth 1 -type f -mtime +"$KEEP_DAYS" -delete
echo "backup $stamp written to $DEST"
