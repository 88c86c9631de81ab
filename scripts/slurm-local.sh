#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for trying `evosim sweep --slurm` for real:
#   scripts/slurm-local.sh install   # Debian/Ubuntu packages: slurm-wlm, munge (needs root)
#   scripts/slurm-local.sh start     # munge, slurmctld and slurmd for this host; prints the
#                                    # SLURM_CONF to export for sbatch/squeue (and dask-jobqueue)
#   scripts/slurm-local.sh stop      # stops the daemons it started (not a munged it found)
# State lives in $EVOSIM_SLURM_DIR (default /tmp/evosim-slurm). The node offers every core and
# most of the memory; jobs run as the user who submits them (slurmd runs as root).
set -euo pipefail
DIR=${EVOSIM_SLURM_DIR:-/tmp/evosim-slurm}
CONF=$DIR/slurm.conf
HOST=$(hostname -s)

install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq slurm-wlm munge > /dev/null
}

start() {
    command -v slurmctld > /dev/null || { echo "slurm-local: slurmctld not installed (run: $0 install)" >&2; exit 1; }
    mkdir -p "$DIR/state" "$DIR/spool" /run/munge /var/log/munge /var/lib/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2> /dev/null
        chmod 400 /etc/munge/munge.key
    fi
    if [ -f "$DIR/munged.pid" ] && ! kill -0 "$(cat "$DIR/munged.pid")" 2> /dev/null; then
        rm -f "$DIR/munged.pid"  # ours, but gone
    fi
    if ! pgrep -x munged > /dev/null; then  # a munged already running is not ours to stop
        munged --force
        pgrep -x -n munged > "$DIR/munged.pid"
    fi
    local cpus memory
    cpus=$(nproc)
    memory=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 8 / 10 ))
    cat > "$CONF" <<CONF
ClusterName=evosim-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$CONF
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    for _ in $(seq 60); do  # the node is up when it takes jobs
        if sinfo -h -o %t 2> /dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "export SLURM_CONF=$CONF"
            return 0
        fi
        sleep 0.5
    done
    echo "slurm-local: the node did not come up; see $DIR/slurmctld.log and $DIR/slurmd.log" >&2
    stop
    exit 1
}

stop() {
    for daemon in slurmd slurmctld munged; do  # munged only if this script started it
        [ -f "$DIR/$daemon.pid" ] && kill "$(cat "$DIR/$daemon.pid")" 2> /dev/null || true
        rm -f "$DIR/$daemon.pid"
    done
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
