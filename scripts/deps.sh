#!/usr/bin/env bash
# Installs what the demo and the tests need, once, into a cache that later
# runs reuse: PostgreSQL server binaries (Debian packages), a pinned MinIO
# (built from the Go module proxy) and a pinned Azurite (npm registry).
#
#   scripts/deps.sh postgres        only PostgreSQL (make demo)
#   scripts/deps.sh all             everything the tests start (make test)
#   scripts/deps.sh standin         what the SQL Server stand-in needs
set -euo pipefail

MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c" # RELEASE.2026-02-12
AZURITE_VERSION="3.37.0"
CACHE="${MXTEST_CACHE:-$HOME/.cache/mxmigrate}"
what="${1:-all}"

say() { echo "deps: $*" >&2; }

have_postgres() {
  [ -n "${MXMIGRATE_PG_BIN:-}" ] && [ -x "$MXMIGRATE_PG_BIN/initdb" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null
}

install_postgres() {
  if have_postgres; then return; fi
  say "PostgreSQL server binaries not found: installing Debian's postgresql package"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package starts a cluster of its own; the tests never use it.
  $sudo service postgresql stop >/dev/null 2>&1 || true
}

install_minio() {
  local bin="$CACHE/bin/minio" stamp="$CACHE/bin/minio.version"
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$MINIO_VERSION" ]; then return; fi
  say "building MinIO $MINIO_VERSION (a few minutes, once)"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
  echo "$MINIO_VERSION" >"$stamp"
}

install_azurite() {
  local dir="$CACHE/azurite"
  if [ -x "$dir/node_modules/.bin/azurite-blob" ] && grep -q "\"version\": \"$AZURITE_VERSION\"" "$dir/node_modules/azurite/package.json" 2>/dev/null; then return; fi
  command -v npm >/dev/null || { say "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 1; }
  say "installing Azurite $AZURITE_VERSION from the npm registry"
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" "azurite@$AZURITE_VERSION" >/dev/null
}

# The SQL Server stand-in (../shared/mssql-standin) is a prebuilt Babelfish:
# its uuid-ossp extension needs the OSSP uuid library from Debian.
install_standin_libs() {
  if ldconfig -p 2>/dev/null | grep -q 'libossp-uuid\.so\.16'; then return; fi
  say "installing libossp-uuid16 (Debian), which the SQL Server stand-in needs"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libossp-uuid16 >/dev/null
}

case "$what" in
  postgres) install_postgres ;;
  all) install_postgres; install_minio; install_azurite ;;
  standin) install_standin_libs ;;
  *) say "unknown target $what (use postgres or all)"; exit 2 ;;
esac
