#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine, for tests/workflow/test_slurm.py.
# Debian 12 (slurm-wlm 22.05), as root, without systemd or cgroups. The node is called
# `localhost` whatever the hostname, its partition `main` is the default one, and fake GPUs are
# declared through GRES so that `--gpus=N` jobs are scheduled and see CUDA_VISIBLE_DEVICES.
#
# Idempotent: missing Debian packages are installed (apt-get update first), daemons that already
# run with an unchanged configuration are left alone, and a changed configuration restarts the
# daemons that read it. Stop everything with .ci/slurm-down.sh.
#
# Environment:
#   SLURM_ACCOUNTING=slurmdbd|none  slurmdbd (default): slurmdbd + MariaDB, so that `sacct` works.
#                                   It is the status command the Snakemake SLURM plugin uses by
#                                   default. With `none`, also export
#                                   MICHIGAN_SLURM_STATUS_COMMAND=squeue, or Snakemake never sees
#                                   its jobs finish and waits forever.
#   FAKE_GPUS=N                     number of fake GPUs on the node (default 2; 0: no GPU GRES).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
HERE=$(cd "$(dirname "$0")" && pwd)
ACCOUNTING=${SLURM_ACCOUNTING:-slurmdbd}
FAKE_GPUS=${FAKE_GPUS:-2}
CLUSTER=michigan-ci
T0=$EPOCHREALTIME

lap() { awk -v name="$1" -v now="$EPOCHREALTIME" -v t0="$T0" 'BEGIN { printf "[slurm-up] %-34s %5.1f s\n", name, now - t0 }'; }
fail() {
    echo "[slurm-up] error: $1" >&2
    [ -z "${2:-}" ] || tail -n 20 "$2" >&2
    exit 1
}
alive() { # NAME PIDFILE: true when the pid file names a running NAME process
    [ -s "$2" ] && [ "$(cat "/proc/$(cat "$2")/comm" 2>/dev/null)" = "$1" ]
}
wait_for() { # SECONDS COMMAND...: retry COMMAND every 0.2 s until it succeeds
    local tries=$(($1 * 5))
    shift
    for _ in $(seq "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
replace_if_changed() { # NEW DEST: move NEW over DEST when they differ; true when DEST changed
    if cmp -s "$1" "$2"; then
        rm -f "$1"
        return 1
    fi
    mv "$1" "$2"
}

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and starts daemons)"
case "$ACCOUNTING" in slurmdbd | none) ;; *) fail "SLURM_ACCOUNTING='$ACCOUNTING', expected slurmdbd or none" ;; esac
case "$FAKE_GPUS" in '' | *[!0-9]*) fail "FAKE_GPUS='$FAKE_GPUS', expected a count >= 0" ;; esac

# ---- packages --------------------------------------------------------------------------------
packages="slurmctld slurmd slurm-client munge"
[ "$ACCOUNTING" = none ] || packages="$packages slurmdbd mariadb-server"
missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "[slurm-up] apt-get install:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi
lap "packages"

# ---- munge: the authentication every SLURM daemon and client uses ----------------------------
if [ ! -s /etc/munge/munge.key ]; then # the Debian postinst normally creates one
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! alive munged /run/munge/munged.pid; then
    runuser -u munge -- /usr/sbin/munged # daemonizes and writes /run/munge/munged.pid
fi
wait_for 10 sh -c 'munge -n </dev/null | unmunge' || fail "munged does not answer" /var/log/munge/munged.log
lap "munged"

# ---- configuration ---------------------------------------------------------------------------
install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /var/log/slurm
install -d -m 0755 /var/spool/slurmd /etc/slurm
cpus=$(nproc)
detected_mb=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
real_memory=$((detected_mb - 512)) # above the detected memory the node would be INVALID

node_gres=""
gres_conf=$(mktemp)
if [ "$FAKE_GPUS" -gt 0 ]; then
    node_gres="Gres=gpu:$FAKE_GPUS"
    # SLURM needs one character (or block) device per GPU: with regular files it schedules the
    # jobs but never sets CUDA_VISIBLE_DEVICES. These have the numbers of /dev/null (1, 3).
    for i in $(seq 0 $((FAKE_GPUS - 1))); do
        device=/var/spool/slurmd/fakegpu$i
        [ -c "$device" ] || { rm -f "$device" && mknod "$device" c 1 3; }
    done
    echo "NodeName=localhost Name=gpu File=/var/spool/slurmd/fakegpu[0-$((FAKE_GPUS - 1))]" >"$gres_conf"
fi

if [ "$ACCOUNTING" = slurmdbd ]; then
    # job_comment keeps the `rule_<name>` comment of each Snakemake job in sacct's history
    accounting="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux"
else
    accounting="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi

slurm_conf=$(mktemp)
cat >"$slurm_conf" <<EOF
# Written by .ci/slurm-up.sh: a one-node test cluster, not a template for a real one.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=300
# a requeued job may start again after cred_expire + 1 s (default 120 s: too slow for tests)
AuthInfo=cred_expire=10
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobCompType=jobcomp/none
$accounting
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_memory $node_gres State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

slurm_changed=false
replace_if_changed "$slurm_conf" /etc/slurm/slurm.conf && slurm_changed=true
if [ -s "$gres_conf" ]; then
    replace_if_changed "$gres_conf" /etc/slurm/gres.conf && slurm_changed=true
else
    rm -f "$gres_conf"
    [ ! -e /etc/slurm/gres.conf ] || { rm -f /etc/slurm/gres.conf && slurm_changed=true; }
fi
chmod 0644 /etc/slurm/slurm.conf
[ ! -e /etc/slurm/gres.conf ] || chmod 0644 /etc/slurm/gres.conf
lap "configuration (changed: $slurm_changed)"

# ---- accounting: MariaDB + slurmdbd ----------------------------------------------------------
if [ "$ACCOUNTING" = slurmdbd ]; then
    install -d -o mysql -g root -m 0755 /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
    if ! alive mariadbd /run/mysqld/mysqld.pid; then
        # unix socket only; setsid and closed streams, so that CI's pipes are not held open
        setsid /usr/sbin/mariadbd --user=mysql --skip-networking --pid-file=/run/mysqld/mysqld.pid \
            </dev/null >/var/log/slurm/mariadb.log 2>&1 &
    fi
    wait_for 30 mariadb-admin ping || fail "MariaDB does not answer" /var/log/slurm/mariadb.log
    # The password only guards a database that listens on a unix socket of a CI machine.
    mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'michigan-ci';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
    lap "mariadbd"

    dbd_conf=$(mktemp)
    cat >"$dbd_conf" <<'EOF'
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=michigan-ci
StorageLoc=slurm_acct_db
EOF
    chown slurm:slurm "$dbd_conf"
    chmod 0600 "$dbd_conf"
    if replace_if_changed "$dbd_conf" /etc/slurm/slurmdbd.conf; then
        bash "$HERE/slurm-down.sh" slurmdbd
    fi
    alive slurmdbd /run/slurmdbd.pid || /usr/sbin/slurmdbd
    wait_for 30 sacctmgr -n list cluster || fail "slurmdbd does not answer" /var/log/slurm/slurmdbd.log
    # registering the cluster also creates the account `root` with the user root
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
        slurm_changed=true # slurmctld registers with slurmdbd when it starts
    fi
    lap "slurmdbd"
fi

# ---- controller and node ---------------------------------------------------------------------
if [ "$slurm_changed" = true ]; then
    bash "$HERE/slurm-down.sh" slurmd slurmctld
fi
alive slurmctld /run/slurmctld.pid || /usr/sbin/slurmctld -c # -c: ignore saved job state
alive slurmd /run/slurmd.pid || /usr/sbin/slurmd -N localhost # the node is not the hostname
node_ready() { sinfo -h -o %t | grep -qE '^(idle|mix|alloc)$'; }
if ! wait_for 30 node_ready; then
    sinfo -R >&2 || true
    fail "the node did not become ready" /var/log/slurm/slurmctld.log
fi
lap "slurmctld + slurmd (node ready)"

pids="munged=$(cat /run/munge/munged.pid) slurmctld=$(cat /run/slurmctld.pid) slurmd=$(cat /run/slurmd.pid)"
[ "$ACCOUNTING" = none ] ||
    pids="$pids slurmdbd=$(cat /run/slurmdbd.pid) mariadbd=$(cat /run/mysqld/mysqld.pid)"
echo "[slurm-up] cluster $CLUSTER up (accounting: $ACCOUNTING, fake GPUs: $FAKE_GPUS): $pids"
