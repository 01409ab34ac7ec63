#!/usr/bin/env bash
# Stop the one-node SLURM cluster that .ci/slurm-up.sh started, by the pids in the daemons' pid
# files. A pid is signalled only when /proc/<pid>/comm still names the expected daemon, so a stale
# pid file never kills an unrelated process that reused the pid. Safe to run twice, and when
# nothing runs.
#
# Usage: slurm-down.sh [DAEMON ...]   DAEMON in slurmd slurmctld slurmdbd mariadbd munged;
#                                      default: all of them, in that order.
set -uo pipefail

pid_file() {
    case "$1" in
        slurmd) echo /run/slurmd.pid ;;
        slurmctld) echo /run/slurmctld.pid ;;
        slurmdbd) echo /run/slurmdbd.pid ;;
        mariadbd) echo /run/mysqld/mysqld.pid ;;
        munged) echo /run/munge/munged.pid ;;
        *)
            echo "slurm-down.sh: unknown daemon '$1' (expected slurmd slurmctld slurmdbd mariadbd munged)" >&2
            return 1
            ;;
    esac
}

stop_daemon() {
    local name=$1 file pid
    file=$(pid_file "$name") || return 1
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        kill -TERM "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid"
            echo "[slurm-down] $name ($pid) ignored SIGTERM for 10 s: killed"
        else
            echo "[slurm-down] stopped $name ($pid)"
        fi
    fi
    # slurmctld and slurmdbd leave their pid files behind; a stale /run/slurmctld.pid would also
    # make a later `apt-get remove slurmctld` fail (its prerm calls scancel).
    rm -f "$file"
}

daemons=("$@")
[ $# -gt 0 ] || daemons=(slurmd slurmctld slurmdbd mariadbd munged)
status=0
for name in "${daemons[@]}"; do
    stop_daemon "$name" || status=1
done
exit "$status"
