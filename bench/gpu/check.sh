#!/usr/bin/env bash
# The GPU check: on a GPU machine with no Rust and no network, from the bundle of
# `cargo xtask gpu-bundle` (carried beside this checkout), writes $OUT/gpu.md with
#   1. the device and driver;
#   2. the parity suite (tests/it/parity.rs) on each device against flex on the same machine;
#   3. one training iteration of the quick-start, SNGAN's CIFAR-10 std CNN (n_dis 5, D batch 64,
#      G batch 128), SNGAN ResNet-32, SAGAN-32, BigGAN-32 and BigGAN-128 (batch 64) on each
#      device (benches/gpu.rs) beside the same work in PyTorch CUDA (bench/pytorch/train.py);
#   4. FID Inception features per second on 10,000 32x32 images, ours and torch's
#      (bench/pytorch/fid.py);
#   5. two minutes of real training of the quick-start config on the first device: images/s
#      and the sample grid ($OUT/quickstart-grid.png);
#   6. the ResNet and BigGAN iterations again in bf16 on the first device (--precision bf16).
# The parity suite includes `--devices` over the one device (on cuda: NCCL over one rank)
# against a plain run.
#
#   bench/gpu/check.sh [--device cuda,wgpu] [--bundle target/gpu-bundle] [--tiny]
#
# `--device flex --tiny` is the CPU dry run (tiny networks, no PyTorch; the parity suite then
# compares flex with itself); `cargo nextest run -p xtask` runs it. TF32 is off on both sides
# (Burn's kernels compute fp32; torch.backends.*.allow_tf32 = False), cudnn.benchmark on.
# Steps run most important first, each cut off by a time limit so that the whole stays inside
# --budget seconds (default 540; the device tool stops a command at 600 s), and a step that
# runs out is reported as such.
set -euo pipefail
cd "$(dirname "$0")/../.."

devices=cuda,wgpu
bundle=target/gpu-bundle
tiny=()
train_seconds=120
budget=540
while [ $# -gt 0 ]; do
    case "$1" in
        --device) devices="$2"; shift 2 ;;
        --bundle) bundle="$2"; shift 2 ;;
        --budget) budget="$2"; shift 2 ;;
        --tiny) tiny=(--tiny); train_seconds=1; shift ;;
        *) echo "check.sh: unknown argument '$1' (expected --device LIST, --bundle DIR, --budget S, --tiny)" >&2; exit 2 ;;
    esac
done
out="${OUT:-target/gpu-check}"
mkdir -p "$out"
report="$out/gpu.md"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}"
IFS=, read -r -a device_list <<< "$devices"
started=$SECONDS
failed=0
notes=()
md() { printf '%s\n' "$*" >> "$report"; }
log() { printf 'check.sh [%3ds]: %s\n' "$((SECONDS - started))" "$*" >&2; }
# The value of `bench: KEY VALUE` in a bench output file, or "-".
value() { awk -v k="$2" '$1 == "bench:" && $2 == k { v = $3 } END { print (v == "" ? "-" : v) }' "$1"; }
# Runs a step with at most min(MAX, what is left of the budget) seconds: limited MAX CMD...
limited() {
    local max="$1"; shift
    local left=$((budget - (SECONDS - started)))
    if [ "$left" -lt 10 ]; then log "no time left for: $*"; return 124; fi
    timeout "$(( max < left ? max : left ))" "$@"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }

# The binaries: a packed bundle holds bin/ as one xz-compressed tar (xz, or Python's lzma and
# tarfile where xz is missing; 1 GiB of memory to unpack), a dry run's bundle bin/ as it is.
[ -f "$bundle/MANIFEST" ] || { echo "check.sh: $bundle/MANIFEST missing: build the bundle with cargo xtask gpu-bundle" >&2; exit 1; }
if [ -f "$bundle/bin.tar.xz" ]; then
    if command -v xz > /dev/null; then
        xz -dc "$bundle/bin.tar.xz" | tar -x -C "$work"
    else
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' \
            "$bundle/bin.tar.xz" "$work"
    fi
else
    mkdir -p "$work/bin"
    cp "$bundle"/bin/* "$work/bin/"
fi
for name in parity gpu-bench; do
    [ -f "$work/bin/$name" ] || { echo "check.sh: $name missing from $bundle" >&2; exit 1; }
    chmod +x "$work/bin/$name"
    ln -sf "$work/bin/$name" "$work/$name"
done
# wgpu needs the Vulkan loader (carried as Debian's libvulkan1 where the machine lacks it) and
# an ICD for the GPU (NVIDIA's driver ships libGLX_nvidia with Vulkan; its JSON may be missing).
if [[ ",$devices," == *,wgpu,* ]]; then
    if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
        for deb in "$bundle"/debs/*.deb; do
            # A .deb is an ar archive holding data.tar.*: dpkg-deb, or Python where it is missing.
            if command -v dpkg-deb > /dev/null; then
                dpkg-deb -x "$deb" "$work/deb"
            else
                python3 - "$deb" "$work/deb" <<'PY'
import io, sys, tarfile
blob = open(sys.argv[1], "rb").read()
pos = 8  # "!<arch>\n", then 60-byte member headers
while pos < len(blob):
    name, size = blob[pos:pos + 16].decode().strip(), int(blob[pos + 48:pos + 58])
    if name.rstrip("/").startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(blob[pos + 60:pos + 60 + size])).extractall(sys.argv[2])
    pos += 60 + size + size % 2
PY
            fi
        done
        export LD_LIBRARY_PATH="$work/deb/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        log "Vulkan loader from $bundle/debs"
    fi
    icd=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -n 1 || true)
    nvidia_glx=$(ldconfig -p | awk '/libGLX_nvidia\.so\.0/ { print $NF; exit }')
    if [ -z "$icd" ] && [ -n "$nvidia_glx" ]; then
        icd="$work/nvidia_icd.json"
        printf '{"file_format_version": "1.0.1", "ICD": {"library_path": "%s", "api_version": "1.3"}}\n' "$nvidia_glx" > "$icd"
        export VK_ICD_FILENAMES="$icd"
        log "Vulkan ICD written for $nvidia_glx"
    fi
fi

have_torch_cuda=no
if [ "${#tiny[@]}" -eq 0 ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
    have_torch_cuda=yes
fi

: > "$report"
md "# GPU check"
md ""
md "Bundle: $(head -n 1 "$bundle/MANIFEST"). Devices: ${devices}. Started $(date -u '+%Y-%m-%d %H:%M UTC')."
md ""
md "## Device"
md ""
md '```'
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv >> "$report" 2>&1 || true
    nvidia-smi 2> /dev/null | grep -o 'CUDA Version: [0-9.]*' >> "$report" || true
fi
md "CPU: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) threads; $(ldd --version 2>&1 | head -n 1) (the binaries need glibc 2.35)"
if [ "$have_torch_cuda" = yes ]; then
    python3 -c 'import torch; print(f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}")' >> "$report"
fi
if [ -n "${VK_ICD_FILENAMES:-}" ]; then md "Vulkan ICD: $VK_ICD_FILENAMES"; fi
md '```'

log "parity suite"
md ""
md "## Parity"
md ""
md "The parity suite (tests/it/parity.rs) on each device against flex on this machine: max |device - flex| over the largest |flex| of each compared tensor, worst of the case."
md ""
md "| device | case | values | worst diff / scale | tolerance | result |"
md "|---|---|---|---|---|---|"
for device in "${device_list[@]}"; do
    status=0
    # Autotuning picks fast kernels and checks nothing the suite compares.
    SNGAN_PARITY_DEVICES="$device" CUBECL_AUTOTUNE_LEVEL=minimal limited 120 "$work/parity" parity:: \
        --test-threads=1 --nocapture > "$out/parity-$device.log" 2>&1 || status=$?
    awk -v dev="$device" '
        { sub(/^test [^ ]+ \.\.\. /, "") }  # libtest prints the first line after the test name
        $1 == "parity" && $3 == "[" dev "]" {
            case_ = $2; n[case_]++
            for (i = 1; i <= NF; i++) {
                if ($i == "=") r = $(i + 1) + 0
                if ($i == "(tol") tol[case_] = $(i + 1)
            }
            sub(/[),]+$/, "", tol[case_])
            if (r > worst[case_]) worst[case_] = r
            if ($NF == "FAIL") fail[case_] = 1
            if (!(case_ in seen)) { seen[case_] = 1; order[++k] = case_ }
        }
        END {
            for (j = 1; j <= k; j++) {
                c = order[j]
                printf "| %s | %s | %d | %.2e | %s | %s |\n", dev, c, n[c], worst[c], tol[c], (c in fail) ? "FAIL" : "ok"
            }
        }' "$out/parity-$device.log" >> "$report"
    summary=$(grep -E '^test result:' "$out/parity-$device.log" | tail -n 1 || true)
    md "| $device | **libtest** | | | | ${summary:-no result; see parity-$device.log} |"
    if [[ "$summary" == *" 0 passed"* ]]; then status=1; fi
    if [ "$status" -ne 0 ]; then
        failed=1
        md "| $device | **FAIL** | | | | exit status $status, see parity-$device.log |"
    fi
done

# Timings, the first device and PyTorch first, then quick-start training, then the other devices.
bench() {  # bench DEVICE MAX ARGS...
    local device="$1" max="$2"; shift 2
    local status=0
    limited "$max" "$work/gpu-bench" --device "$device" "${tiny[@]}" "$@" \
        >> "$work/bench-$device.txt" 2>> "$out/bench-$device.log" || status=$?
    if [ "$status" -ne 0 ]; then
        failed=1
        notes+=("gpu-bench $* on $device failed (exit status $status; 124: out of time): see bench-$device.log")
        log "${notes[-1]}"
    fi
}
first="${device_list[0]}"
log "timings on $first"
bench "$first" 240
torch="$work/bench-torch.txt"
: > "$torch"
if [ "$have_torch_cuda" = yes ]; then
    log "PyTorch"
    for script in "train.py --suite gpu" "fid.py --fid-images 10000"; do
        # shellcheck disable=SC2086 # the script and its arguments
        limited 150 python3 bench/pytorch/$script --device cuda >> "$torch" 2>> "$out/bench-torch.log" \
            || { failed=1; notes+=("bench/pytorch/$script failed: see bench-torch.log"); log "${notes[-1]}"; }
    done
fi
log "quick-start training on $first"
bench "$first" $((train_seconds + 60)) --models quickstart --fid-images 0 \
    --train-seconds "$train_seconds" --run-dir "$work/run"
log "bf16 timings on $first"
bench "$first" 150 --bf16 --fid-images 0 \
    --models sngan_cifar10_resnet,sagan_cifar10,biggan_cifar10,biggan_imagenet128_b64
for device in "${device_list[@]:1}"; do
    log "timings on $device"
    bench "$device" 240
done

md ""
md "## Training iterations"
md ""
md "Median ms per iteration (n_dis D steps + one G step, Adam, EMA where configured; random batches; device synchronised at the end of each). PyTorch CUDA: ${have_torch_cuda/no/not run}; TF32 off on both sides, cudnn.benchmark on. The bf16 column: the same iteration with bfloat16 passes and f32 master weights, Adam, SN, BN statistics and losses (--precision bf16)."
md ""
header="| model |"; rule="|---|"
for device in "${device_list[@]}"; do header+=" sngan $device |"; rule+="---|"; done
header+=" PyTorch cuda |"; rule+="---|"
for device in "${device_list[@]}"; do header+=" $device / torch |"; rule+="---|"; done
header+=" sngan $first bf16 |"; rule+="---|"
md "$header"; md "$rule"
for model in quickstart sngan_cifar10_std_cnn_ndis5 sngan_cifar10_resnet sagan_cifar10 biggan_cifar10 biggan_imagenet128_b64; do
    key="train/${model}_iteration_ms"
    theirs=$(value "$torch" "$key")
    row="| $model |"
    for device in "${device_list[@]}"; do row+=" $(value "$work/bench-$device.txt" "$key") |"; done
    row+=" $theirs |"
    for device in "${device_list[@]}"; do row+=" $(ratio "$(value "$work/bench-$device.txt" "$key")" "$theirs") |"; done
    row+=" $(value "$work/bench-$first.txt" "train/${model}_bf16_iteration_ms") |"
    md "$row"
done

md ""
md "## FID Inception features"
md ""
md "Images per second, uint8 32x32 in, pool3 + logits out (pytorch-fid's bilinear resize to 299; ours resizes on the host)."
md ""
md "| | images/s |"
md "|---|---|"
for device in "${device_list[@]}"; do md "| sngan $device | $(value "$work/bench-$device.txt" fid/inception_images_per_s) |"; done
md "| PyTorch cuda | $(value "$torch" fid/inception_images_per_s) |"

md ""
md "## Two minutes of training"
md ""
md "The quick-start config (configs/mnist_quickstart.json) on ${first}, on the MNIST test split embedded in the binary, for about ${train_seconds} s (steps from the measured iteration time)."
md ""
md "| G steps | seconds | real images/s |"
md "|---|---|---|"
md "| $(value "$work/bench-$first.txt" run/quickstart_steps) | $(value "$work/bench-$first.txt" run/quickstart_seconds) | $(value "$work/bench-$first.txt" run/quickstart_images_per_s) |"
grid=$(ls "$work"/run/samples/step-*.png 2> /dev/null | tail -n 1 || true)
if [ -n "$grid" ]; then
    cp "$grid" "$out/quickstart-grid.png"
    md ""
    md "Sample grid, one row per digit: quickstart-grid.png"
else
    failed=1
    md ""
    md "No sample grid was written: see bench-$first.log. FAIL"
fi
for note in "${notes[@]}"; do md ""; md "FAIL: $note"; done
md ""
md "Finished in $((SECONDS - started)) s$( [ "$failed" -eq 0 ] || echo "; a step FAILED (logs beside this file)")."
log "wrote $report"
cat "$report"
exit "$failed"
