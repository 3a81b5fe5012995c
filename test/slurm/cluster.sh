#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the Slurm tests: Debian's slurmctld,
# slurmd and munge, installed when missing (root and apt-get), configured from `slurmd -C`,
# started without systemd, stopped by their pids.
#
#   test/slurm/cluster.sh start STATE_DIR   # prints "ready" once sinfo says the node is idle
#   test/slurm/cluster.sh stop STATE_DIR
#
# Everything the cluster keeps lives in STATE_DIR: its slurm.conf (clients find it through
# SLURM_CONF=STATE_DIR/slurm.conf), the controller's state, slurmd's spool, logs and pid files,
# and ports of its own. Nothing is shared with another Slurm configuration of the machine, whose
# leftovers (a state directory of another cluster name, daemons on the default ports) once
# stopped this one.
#
# Exit status: 0 ready; 3 Slurm cannot be installed here (not root, no apt-get, the packages
# refused), with the reason on stderr: the tests then skip; 1 a daemon failed, with the daemon's
# own words on stderr: the tests fail. A start that fails stops whatever it started.
set -euo pipefail
action=$1
state=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$state/slurm.conf
export SLURM_CONF=$conf

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

# A daemon that died: its own last words (its output, then its log), then everything started is stopped.
failed() {
  local name=$1
  {
    echo "$name did not start:"
    for file in "$state/$name.out" "$state/$name.log"; do
      [ -s "$file" ] && tail -n 15 "$file"
    done
  } >&2
  stop
  exit 1
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi

[ "$(id -u)" = 0 ] || cannot "a Slurm cluster needs root here (slurmd runs jobs as their users)"
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null || ! command -v sbatch > /dev/null; then
  command -v apt-get > /dev/null || cannot "slurmctld, slurmd and munge are not installed, and there is no apt-get"
  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge > "$state/apt.log" 2>&1 \
    || cannot "apt-get install slurmctld slurmd slurm-client munge failed: $(tail -n 3 "$state/apt.log" | tr '\n' ' ')"
fi

# A cluster of this state directory left running (a test run that was killed): stopped first.
stop
trap 'stop' ERR

# munge: its own user, its own directories; it refuses to run as root. One munged serves the
# machine: one already answering is used (and left running), else this cluster starts its own.
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || { echo "/etc/munge/munge.key is missing" >&2; exit 1; }
if ! munge -n > /dev/null 2>&1; then
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground --force > "$state/munged.out" 2>&1 &
  echo $! > "$state/munged.pid"
  for _ in $(seq 50); do munge -n > /dev/null 2>&1 && break; sleep 0.1; done
  munge -n > /dev/null 2>&1 || failed munged
fi

# Ports of this cluster's own, away from the default ones (6817, 6818) another cluster may hold.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ctld_port=$(free_port)
slurmd_port=$(free_port)

host=$(hostname)
node=$(slurmd -C | head -1)
rm -rf "$state/ctld" "$state/spool"
mkdir -p "$state/ctld" "$state/spool"
cat > "$conf" <<CONF
ClusterName=mlxtest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${state}/jobcomp.log
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
ReturnToService=2
SlurmctldPidFile=${state}/slurmctld.daemon.pid
SlurmdPidFile=${state}/slurmd.daemon.pid
StateSaveLocation=${state}/ctld
SlurmdSpoolDir=${state}/spool
SlurmctldLogFile=${state}/slurmctld.log
SlurmdLogFile=${state}/slurmd.log
KillWait=10
${node/ UpTime=*/} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -c -i -f "$conf" > "$state/slurmctld.out" 2>&1 &
echo $! > "$state/slurmctld.pid"
slurmd -D -f "$conf" > "$state/slurmd.out" 2>&1 &
echo $! > "$state/slurmd.pid"
for _ in $(seq 150); do
  kill -0 "$(cat "$state/slurmctld.pid")" 2> /dev/null || failed slurmctld
  kill -0 "$(cat "$state/slurmd.pid")" 2> /dev/null || failed slurmd
  case "$(sinfo -h -o %T 2> /dev/null)" in idle | mixed | allocated) echo ready; exit 0 ;; esac
  sleep 0.2
done
echo "the Slurm node did not become idle within 30 s; sinfo says: $(sinfo -h -o '%T %E' 2>&1 | head -n 3)" >&2
tail -n 5 "$state/slurmctld.log" "$state/slurmd.log" >&2 2> /dev/null || true
stop
exit 1
