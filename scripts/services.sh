# Functions that make the local services the tests need answer on loopback:
# start them when installed but stopped, install them (as root, from Debian's
# packages) when missing, and fail with a clear message otherwise.
# Sourced by scripts/test.sh.

export GATHERING_TEST_DATABASE_URL="${GATHERING_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export GATHERING_TEST_REDIS_URL="${GATHERING_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "error: $* is not installed; install it (Debian: apt-get install $*) and run again" >&2
		exit 1
	fi
	echo "installing $* from Debian's packages"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # wait_for SECONDS COMMAND...
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then return 1; fi
		sleep 0.5
	done
}

postgres_answers() { psql "$GATHERING_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
	if postgres_answers; then echo "PostgreSQL answers"; return; fi
	if ! command -v pg_ctlcluster >/dev/null; then
		apt_install postgresql
	fi
	local version
	version=$(ls /etc/postgresql | sort -V | tail -1)
	# A cluster installed by this script trusts loopback connections, as the
	# machines this suite runs on do; it is a test database, never a server.
	local hba="/etc/postgresql/$version/main/pg_hba.conf"
	if [ -w "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
		sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
	fi
	echo "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
	if ! wait_for 30 postgres_answers; then
		# The test database may be all that is missing.
		psql -h 127.0.0.1 -U postgres -Atqc 'create database test' postgres 2>/dev/null || true
	fi
	postgres_answers || { echo "error: PostgreSQL does not answer at $GATHERING_TEST_DATABASE_URL" >&2; exit 1; }
	echo "PostgreSQL answers"
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
	if redis_answers; then echo "Redis answers"; return; fi
	if ! command -v redis-server >/dev/null; then
		apt_install redis-server
	fi
	echo "starting Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/ci.log
	wait_for 15 redis_answers || { echo "error: Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
	echo "Redis answers"
}
