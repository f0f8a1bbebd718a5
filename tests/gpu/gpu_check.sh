#!/usr/bin/env bash
# GPU check (issue 17, item 6): on a machine with an NVIDIA GPU and nvcc but no network, build whisper-server
# and llama-server with CUDA for that GPU only, from the source trees provisioning already unpacked (the npm
# tarballs under ~/.cache/tom/engines/src: nodejs-whisper/package/cpp/whisper.cpp and llama.cpp; copy that
# src/ folder, about 300 MB without the build folders, next to the checkout or pass --src), generate synthetic
# models with the REAL shapes of the catalogue's GPU defaults (whisper large-v3-turbo: 1280,20,32,4,128;
# Qwen3-8B: 4096,36,32,8,12288 with its 151936-token vocabulary, quantized to Q4_K_M), and measure STT (3 s and 10 s German utterance),
# LLM first token and tokens/s, TTS first audio and `tom probe` voice-to-voice for 1 and 20 calls.
# Writes a JSON summary (--out). Needs: nvidia-smi, nvcc, cmake, g++, python3 with numpy, espeak-ng, sox, deno.
#
# Usage: tests/gpu/gpu_check.sh [--src DIR] [--out FILE] [--work DIR] [--budget SECONDS] [--small]
#   --small   tiny shapes (CPU-testable plumbing of the model generation; skips the GPU requirement only
#             together with --models-only)
#   --models-only  generate the synthetic models and stop (no build, no measurement)
# Exit codes: 2 bad arguments, 3 no sources, 4 no GPU, 5 no nvcc, 7 no time left after the build.
# GPU_CHECK_CALLS (default 20): the concurrent calls of the probe.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
src="${TOM_ENGINES_DIR:-$HOME/.cache/tom/engines}/src"
out="$here/gpu_check.json"
work="${TMPDIR:-/tmp}/tom-gpu-check"
budget=600
small=0
models_only=0

die() { echo "gpu_check: $1" >&2; exit "${2:-1}"; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --src) src="${2:?--src needs a directory}"; shift 2 ;;
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --work) work="${2:?--work needs a directory}"; shift 2 ;;
    --budget) budget="${2:?--budget needs seconds}"; shift 2
      [[ "$budget" =~ ^[0-9]+$ ]] || die "--budget must be a number of seconds" 2 ;;
    --small) small=1; shift ;;
    --models-only) models_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
  esac
done

if [ "$small" = 1 ]; then
  whisper_shape="64,2,1,1,80"; llama_shape="64,2,4,4,128"
else
  whisper_shape="1280,20,32,4,128"; llama_shape="4096,36,32,8,12288,151936"
fi

whisper_src="$src/nodejs-whisper/package/cpp/whisper.cpp"
llama_src="$src/llama.cpp"
[ -f "$whisper_src/CMakeLists.txt" ] || die "no whisper.cpp source at $whisper_src (run deno task engines once, or --src)" 3
[ -f "$llama_src/CMakeLists.txt" ] || die "no llama.cpp source at $llama_src (run deno task engines once, or --src)" 3

if ! { [ "$models_only" = 1 ] && [ "$small" = 1 ]; }; then
  command -v nvidia-smi >/dev/null || die "no NVIDIA GPU: nvidia-smi not found (this check needs a GPU)" 4
  gpu="$(nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv,noheader,nounits | head -1)" ||
    die "no NVIDIA GPU: nvidia-smi failed" 4
  [ -n "$gpu" ] || die "no NVIDIA GPU: nvidia-smi lists none" 4
  nvcc="$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)"
  [ -n "$nvcc" ] || die "no CUDA compiler: apt-get install nvidia-cuda-toolkit (or NVIDIA's cuda-toolkit)" 5
  arch="$(echo "$gpu" | awk -F', ' '{print $2}' | tr -d .)"
fi

started=$(date +%s)
left() { echo $(( budget - ($(date +%s) - started) )); }
mkdir -p "$work/models"
py="$(command -v python3)"

echo "gpu_check: synthetic models ($whisper_shape / $llama_shape)" >&2
"$py" "$here/infra/engines/synth_whisper.py" "$work/models/whisper.bin" "$whisper_shape"
"$py" "$here/infra/engines/synth_llama.py" "$llama_src" "$work/models/llm-f16.gguf" "$llama_shape"
if [ "$models_only" = 1 ]; then
  printf '{"models":{"whisper":"%s","llm":"%s"},"shapes":{"whisper":"%s","llm":"%s"}}\n' \
    "$work/models/whisper.bin" "$work/models/llm-f16.gguf" "$whisper_shape" "$llama_shape" > "$out"
  echo "gpu_check: models written; summary $out" >&2
  exit 0
fi

jobs="$(nproc)"
echo "gpu_check: building for sm_$arch with $jobs jobs ($(left) s left)" >&2
cuda=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" "-DCMAKE_CUDA_COMPILER=$nvcc" -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF)
t0=$(date +%s)
cmake -S "$whisper_src" -B "$work/whisper-build" "${cuda[@]}" -DWHISPER_BUILD_TESTS=OFF -DWHISPER_SDL2=OFF >/dev/null
cmake --build "$work/whisper-build" -j "$jobs" --target whisper-server >/dev/null
cmake -S "$llama_src" -B "$work/llama-build" "${cuda[@]}" -DLLAMA_BUILD_TESTS=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_OPENSSL=OFF >/dev/null
cmake --build "$work/llama-build" -j "$jobs" --target llama-server llama-quantize >/dev/null
build_s=$(( $(date +%s) - t0 ))
"$work/llama-build/bin/llama-quantize" "$work/models/llm-f16.gguf" "$work/models/llm.gguf" Q4_K_M >/dev/null 2>&1
rm -f "$work/models/llm-f16.gguf"

# The measurements (tests/gpu/gpu_measure.ts): TOM's own adapters on these engines, then a real `tom serve`
# and `tom probe` against it. GPU layers and pool sizes are chosen as `tom serve` chooses them.
left_s="$(left)"
[ "$left_s" -gt 60 ] || die "the build used the time budget ($build_s s); nothing measured" 7
TOM_STT_BIN="$work/whisper-build/bin/whisper-server" TOM_STT_MODEL="$work/models/whisper.bin" \
TOM_LLM_BIN="$work/llama-build/bin/llama-server" TOM_LLM_MODEL="$work/models/llm.gguf" \
TOM_PROFILE=realtime \
  timeout "$left_s" npx --yes deno@2.9.6 run -A "$here/tests/gpu/gpu_measure.ts" \
    --gpu "$gpu" --build-seconds "$build_s" --out "$out" --budget "$(( left_s - 20 ))" --calls "${GPU_CHECK_CALLS:-20}"
echo "gpu_check: summary $out ($(( $(date +%s) - started )) s)" >&2
