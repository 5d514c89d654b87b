#!/usr/bin/env bash
# `make test`: every test, with the flags given (-race ...), against real
# servers. PostgreSQL, MinIO and Azurite are required (`make test-deps`
# installs them). SQL Server is MSSQL_TEST_DSN when set; else the stand-in
# in ../shared/mssql-standin (beside the repository) when there is one: it is
# started here and, if this script started it, stopped at the end. With a SQL
# Server, its tests must run (a skip is a failure); without one they skip
# and say why.
#   MSSQL_STANDIN_DIR, MSSQL_STANDIN_PORT  passed to the stand-in's start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
standin=../shared/mssql-standin
say() { echo "test: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${MSSQL_TEST_DSN:-}" ] && [ -f "$standin/start.sh" ]; then
  port=${MSSQL_STANDIN_PORT:-1433}
  already=""
  port_open "$port" && already=1
  scripts/deps.sh standin
  line=$(bash "$standin/start.sh" | grep '^MSSQL_TEST_DSN=')
  export MSSQL_TEST_DSN=${line#MSSQL_TEST_DSN=}
  if [ -z "$already" ]; then
    say "started the SQL Server stand-in on port $port; it stops when the tests end"
    # Only what this script started is stopped; the stand-in keeps its data.
    trap 'bash "$standin/stop.sh" || say "could not stop the SQL Server stand-in"' EXIT
    trap 'exit 130' INT TERM
  else
    say "using the SQL Server stand-in already running on port $port"
  fi
fi

require=postgresql,minio,azurite
if [ -n "${MSSQL_TEST_DSN:-}" ]; then
  require=$require,sqlserver
else
  say "no SQL Server (MSSQL_TEST_DSN unset, no $standin): its tests skip unless Docker can start one"
fi
export MXTEST_REQUIRE_SERVERS=$require
# No exec: the EXIT trap must run after the tests.
"$GO" test "$@"
