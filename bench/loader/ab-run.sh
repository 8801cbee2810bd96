#!/usr/bin/env bash
# usage: ab-run.sh <workload> <processes> <pairs> [ENV=V ...]   — prints one JSON line per process
w=$1; n=$2; p=$3; shift 3
node -e "import('./bench/loader/plain-copies.ts').then((m) => m.ensurePlainCopies())"
for i in $(seq 1 $n); do env "$@" LIVEPATCH_EXCLUDE="bench/loader/.plain/**" node $AB_FLAGS --import ./dist/register.js bench/loader/ab.mjs $w $p; done
