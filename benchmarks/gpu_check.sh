#!/usr/bin/env bash
# Issue 20's GPU check, in one command on a machine with an NVIDIA GPU (from the repository
# root; writes its figures under $OUT, default gpu-check/):
#   1. the equality tests on the GPU (tests/engine/test_batched_gpu.py: the cupy engine against
#      numba, its run files, gradient mode's CuPy backend against NumPy) and the CPU twins;
#   2. benchmarks/bench_gpu.py: R = 1, 64 and 1024 runs of the main job, Q off and on, against
#      an all-core numba sweep of the same machine.
# Packages the GPU machine lacks (deap, igraph, texttable, tomli-w) travel as wheels in .whl/:
# make them where pip reaches the index with benchmarks/gpu_wheels.sh.
set -o pipefail
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import cupy, numpy, numba; print('cupy', cupy.__version__, 'numpy', numpy.__version__,
'numba', numba.__version__)" | tee "$OUT/versions.txt"
timeout 300 python3 -m pytest -q -p no:randomly -p no:cacheprovider -rs \
    tests/engine/test_batched_gpu.py tests/engine/test_batched.py 2>&1 | tee "$OUT/tests.log"
timeout 400 python3 benchmarks/bench_gpu.py --runs 1,64,1024 --generations 2000 \
    --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
