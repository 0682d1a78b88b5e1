#!/usr/bin/env bash
# `make run`: start HAL's controller on embedded defaults (SQLite in $HAL_HOME, jobs as local processes, the
# example 4-node cluster), submit a small demo workload, show the queue, and leave the server running.
set -euo pipefail
BIN=${BIN:-.venv/bin}
CLUSTER=${CLUSTER:-examples/local-cluster.toml}
export HAL_HOME=${HAL_HOME:-$PWD/out/hal}
unset HAL_URL HAL_TOKEN
mkdir -p "$HAL_HOME" out/hal-jobs
HAL="$PWD/$BIN/hal"
# how long the demo's jobs sleep (s): long enough to watch in `hal queue`; the test of this script shortens them
LONG_S=${DEMO_LONG_S:-20}
TASK_S=${DEMO_TASK_S:-4}
WIDE_S=${DEMO_WIDE_S:-30}
PY="$PWD/$BIN/python"

alive() {  # the server recorded in server.json answers /health
  [ -f "$HAL_HOME/server.json" ] && "$BIN/python" - <<'PY' 2>/dev/null
import json, os, sys, httpx
info = json.load(open(os.path.join(os.environ["HAL_HOME"], "server.json")))
sys.exit(0 if httpx.get(info["url"] + "/health", timeout=2).status_code == 200 else 1)
PY
}

if alive; then
  echo "A HAL server is already running for $HAL_HOME; reusing it."
else
  PORT=${HAL_PORT:-6820}
  if ! "$BIN/python" -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $PORT))" 2>/dev/null; then
    echo "port $PORT is busy; letting the server pick a free one"
    PORT=0
  fi
  rm -f "$HAL_HOME/server.json"
  nohup "$HAL" server --port "$PORT" --cluster "$CLUSTER" >"$HAL_HOME/server.log" 2>&1 &
  for _ in $(seq 100); do alive && break; sleep 0.2; done
  alive || { echo "the server did not start; see $HAL_HOME/server.log"; tail -20 "$HAL_HOME/server.log"; exit 1; }
fi

cd out/hal-jobs
echo
echo "\$ hal submit --wrap 'sleep $LONG_S' -J long -N 2"
"$HAL" submit --wrap "sleep $LONG_S" -J long -N 2
echo "\$ hal submit --array 0-7%4 --wrap 'echo task \$SLURM_ARRAY_TASK_ID on \$HAL_NODELIST; sleep $TASK_S' -J sweep"
SWEEP=$("$HAL" submit --parsable --array 0-7%4 --wrap "echo task \$SLURM_ARRAY_TASK_ID on \$HAL_NODELIST; sleep $TASK_S" -J sweep)
echo "Submitted batch job $SWEEP"
echo "\$ hal submit --dependency afterok:$SWEEP --wrap 'cat slurm-${SWEEP}_*.out' -J report"
"$HAL" submit --dependency "afterok:$SWEEP" --wrap "cat slurm-${SWEEP}_*.out" -J report
echo "\$ hal submit --wrap 'sleep $WIDE_S' -J wide -n 6 --time 2:00"
"$HAL" submit --wrap "sleep $WIDE_S" -J wide -n 6 --time 2:00
sleep 1
echo
echo "\$ hal queue"
"$HAL" queue
echo
echo "\$ hal nodes"
"$HAL" nodes
URL=$("$PY" -c "import json,os; print(json.load(open(os.path.join(os.environ['HAL_HOME'], 'server.json')))['url'])")
PID=$("$PY" -c "import json,os; print(json.load(open(os.path.join(os.environ['HAL_HOME'], 'server.json')))['pid'])")
cat <<EOT

HAL server running at $URL (pid $PID; log $HAL_HOME/server.log; API docs at $URL/docs).
Job outputs go to out/hal-jobs/ (jobs write theirs in the folder they were submitted from). Try, from the
repository's root (where .venv is):
  export HAL_HOME=$HAL_HOME
  .venv/bin/hal queue          # squeue
  .venv/bin/hal show $SWEEP         # scontrol show job
  .venv/bin/hal cancel ID      # scancel
  .venv/bin/hal history        # sacct
Stop the server with: kill $PID
EOT
