#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, from Debian's slurm-wlm and munge (as root).
#   tests/slurm/cluster.sh start   install if needed, write the config, start munged, slurmctld, slurmd
#   tests/slurm/cluster.sh stop    stop the daemons, remove the config written by start
#   tests/slurm/cluster.sh status  sinfo
set -euo pipefail
ETC=/etc/slurm
SPOOL=/var/spool/regrowth-slurm

start() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
  mkdir -p /etc/munge /var/log/munge /run/munge "$ETC" "$SPOOL/ctld" "$SPOOL/d" /var/log/slurm
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /var/log/munge /run/munge
  chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
  local host cpus mem
  host=$(hostname)
  cpus=$(nproc)
  mem=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
  cat > "$ETC/slurm.conf" <<CONF
ClusterName=regrowth
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
ReturnToService=2
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  # reuse a controller only if it answers; one that is shutting down or stuck is replaced
  if ! timeout 5 scontrol ping 2>/dev/null | grep -q "is UP"; then
    stop_slurm
    slurmctld
  fi
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 1 60); do
    if timeout 5 sinfo -h -o "%T" 2>/dev/null | grep -qE "idle|mixed|alloc"; then
      sinfo
      return 0
    fi
    sleep 1
  done
  echo "cluster.sh: the SLURM node did not become idle; see /var/log/slurm/" >&2
  sinfo >&2 || true
  return 1
}

stop_slurm() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  for _ in $(seq 1 30); do  # wait for the daemons to exit before touching their state
    pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
    sleep 1
  done
  pkill -9 -x slurmctld 2>/dev/null || true
  pkill -9 -x slurmd 2>/dev/null || true
  rm -rf "$SPOOL/ctld" "$SPOOL/d"
  mkdir -p "$SPOOL/ctld" "$SPOOL/d"
}

stop() {
  stop_slurm
  pkill -x munged 2>/dev/null || true
  rm -rf "$SPOOL" || true
  # a config naming a controller that no longer runs makes every scontrol call (and so every
  # Snakemake start, through the SLURM plugin's import-time probe) wait ~9 s
  if grep -qs '^ClusterName=regrowth$' "$ETC/slurm.conf"; then rm -f "$ETC/slurm.conf"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
