#!/usr/bin/env bash
# Download, for Python 3.12 on x86-64 Linux, the wheels of evosim's needs that the GPU machine
# lacks, into .whl/ (ignored by git): benchmarks/gpu_check.sh installs them there.
set -e
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl deap igraph texttable tomli-w
