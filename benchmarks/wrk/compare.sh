#!/bin/sh
# Side-by-side throughput of two running servers on the catalog search (issue 7, item 3).
# usage: benchmarks/wrk/compare.sh NAME=URL NAME=URL [rounds] [seconds]
# Each round runs every server at -c16 then -c32, back to back, so both see the same machine.
set -eu
here=$(dirname "$0")
a=$1; b=$2; rounds=${3:-2}; seconds=${4:-20}
for round in $(seq 1 "$rounds"); do
  for server in "$a" "$b"; do
    name=${server%%=*}; url=${server#*=}
    for c in 16 32; do
      out=$(wrk -t2 -c"$c" -d"${seconds}s" --latency -s "$here/search.lua" "$url")
      rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
      p50=$(printf '%s\n' "$out" | awk '$1=="50%" {print $2}')
      p99=$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')
      errs=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
      echo "round=$round server=$name c=$c rps=$rps p50=$p50 p99=$p99 $errs"
    done
  done
done
