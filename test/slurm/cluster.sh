#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the Slurm tests: Debian's slurmctld,
# slurmd and munge, installed when missing (root and apt-get), configured from `slurmd -C`,
# started without systemd, stopped by their pids.
#
#   test/slurm/cluster.sh start STATE_DIR   # prints "ready" once sinfo says the node is idle
#   test/slurm/cluster.sh stop STATE_DIR
#
# Exits 3 with a reason on stderr when a cluster cannot be started here (the tests then skip).
set -euo pipefail
action=$1
state=$2
mkdir -p "$state"

cannot() {
  echo "$1" >&2
  exit 3
}

# SIGTERM, then up to 15 s for each daemon to finish shutting down (SIGKILL after), so that a
# cluster started right after never meets a daemon that is still going.
stop() {
  for name in slurmd slurmctld munged; do
    if [ -s "$state/$name.pid" ]; then
      pid=$(cat "$state/$name.pid")
      kill "$pid" 2> /dev/null || true
      for _ in $(seq 150); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2> /dev/null || true
      rm -f "$state/$name.pid"
    fi
  done
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi

[ "$(id -u)" = 0 ] || cannot "a Slurm cluster needs root here (slurmd runs jobs as their users)"
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null || ! command -v sbatch > /dev/null; then
  command -v apt-get > /dev/null || cannot "slurmctld, slurmd and munge are not installed, and there is no apt-get"
  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge > "$state/apt.log" 2>&1 \
    || cannot "apt-get install slurmctld slurmd slurm-client munge failed (see $state/apt.log)"
fi

# munge: its own user, its own directories; it refuses to run as root.
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || cannot "/etc/munge/munge.key is missing"
if ! munge -n > /dev/null 2>&1; then
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground > "$state/munged.log" 2>&1 &
  echo $! > "$state/munged.pid"
  for _ in $(seq 50); do munge -n > /dev/null 2>&1 && break; sleep 0.1; done
  munge -n > /dev/null 2>&1 || cannot "munged did not start (see $state/munged.log)"
fi

host=$(hostname)
node=$(slurmd -C | head -1)
mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=mlxtest
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
ReturnToService=2
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
KillWait=10
${node/ UpTime=*/} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

if ! sinfo -h > /dev/null 2>&1; then
  slurmctld -D -c -i > "$state/slurmctld.out" 2>&1 &
  echo $! > "$state/slurmctld.pid"
  slurmd -D > "$state/slurmd.out" 2>&1 &
  echo $! > "$state/slurmd.pid"
fi
for _ in $(seq 150); do
  case "$(sinfo -h -o %T 2> /dev/null)" in idle | mixed | allocated) echo ready; exit 0 ;; esac
  sleep 0.2
done
stop
cannot "the Slurm node did not become idle (see /var/log/slurm/slurmctld.log and slurmd.log)"
