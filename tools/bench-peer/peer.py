#!/usr/bin/env python3
"""PyTorch and skipdit side by side (`make bench-peer`): the same forwards and VAE decodes, the same
shapes and the same threads on this machine, with the ratio PyTorch seconds / skipdit seconds (how
many times faster skipdit is).

Measurements (random weights, fixed seed; bf16 through torch.autocast("cpu", dtype=torch.bfloat16)):
  c2v  Latte-XL/2-skip (16 heads x 72 = 1152, 28 blocks, patch 2, 16x4x32x32 latents, 101 classes),
       timestep 500: batch 1 (`forward`) and the CFG batch 2, labels [0, 101] (`forward_cfg`);
       skipdit: `skipdit bench forward --task c2v`.
  t2v  Latte T2V-skip (16 heads x 72, 28 layers, patch 2, 4x16x64x64 latents, 120 caption tokens of
       4096 channels, learned sigma), the CFG batch 2 (`t2v_forward_cfg`); very slow on a CPU, so
       only with --tasks ...,t2v; skipdit: `skipdit bench forward --task t2v`.
  vae  diffusers AutoencoderKL at the sd-vae-ft-ema size, `decode` of one frame at 256x256 and at
       512x512 (`vae`); skipdit: `skipdit bench vae`.
Each side runs one warm-up and then --runs timed runs and reports the best; PyTorch runs under
torch.no_grad() with torch.set_num_threads(--threads), skipdit with --backend onednn --threads. The
GFLOP/s of both sides use skipdit's FLOP count (its gflops x seconds). PyTorch and skipdit
alternate, task by task and precision by precision, because the machines are shared and noisy. Both
run OpenMP with OMP_WAIT_POLICY=PASSIVE, skipdit's own default, unless OMP_WAIT_POLICY or
GOMP_SPINCOUNT is set (libgomp's default spinning slows either side badly on a loaded machine).

The PyTorch models are this repository's ports, tools/demo-model/latte_skip.py (LatteSkip) and
tools/demo-t2v/latte_t2v_skip.py (LatteT2VSkip), not the official Latte / Skip-DiT files, which
cannot be vendored here. Both ports carry the official state-dict names and are checked against the
golden fixtures produced by the official code (tools/demo-model/verify_fixture.py,
tools/demo-t2v/verify_fixture.py). Their blocks project adaLN once per sample rather than once per
row, as skipdit does (and as its FLOP count assumes).

--size tiny shrinks every model to check this script in seconds; skipdit's benches only run the
released sizes, so the skipdit side is skipped then.

Usage: peer.py [--tasks c2v,t2v,vae] [--precisions fp32,bf16] [--threads N] [--runs N] [--json]
               [--size full|tiny] [--skipdit PATH]
"""

import argparse
import gc
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time

# skipdit runs OpenMP with the passive wait policy unless the user chose one (its
# Sources/TensorCore/OpenMPWaitPolicy.swift); libgomp reads the variable when it loads, so PyTorch gets
# the same default here, before torch is imported. Set OMP_WAIT_POLICY (or GOMP_SPINCOUNT) to choose.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
TASKS = ("c2v", "t2v", "vae")
PRECISIONS = ("fp32", "bf16")
SKIPDIT_BACKEND = "onednn"

# Model sizes: the released ones, and tiny ones for a smoke test of this script.
SIZES = {
    "full": dict(
        c2v=dict(latent_size=32, patch_size=2, in_channels=4, hidden_size=1152, num_heads=16, num_frames=16,
                 num_classes=101),
        t2v=dict(num_attention_heads=16, attention_head_dim=72, in_channels=4, patch_size=2, sample_size=64,
                 video_length=16, caption_channels=4096, tokens=120),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32,
                 pixels=(256, 512)),
    ),
    "tiny": dict(
        c2v=dict(latent_size=8, patch_size=2, in_channels=4, hidden_size=64, num_heads=4, num_frames=4,
                 num_classes=101),
        t2v=dict(num_attention_heads=2, attention_head_dim=32, in_channels=4, patch_size=2, sample_size=8,
                 video_length=4, caption_channels=64, tokens=8),
        vae=dict(block_out_channels=(32, 32, 64, 64), layers_per_block=2, norm_num_groups=32, pixels=(16, 32)),
    ),
}


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (the same field skipdit reports)."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def load_module(name: str, path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def redraw_zeros(model: torch.nn.Module):
    """Random weights: the ports start as the identity (adaLN-Zero, zeroed output projections);
    re-draw every all-zero trainable tensor so that no branch is multiplied by zero."""
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad and not p.any():
                p.normal_(0.0, 0.02)
    return model.eval()


def autocast(precision: str):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


def measure(fn, runs: int, warmup: int = 1) -> list:
    """`warmup` untimed calls, then `runs` timed ones: every run's seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


# ---- the PyTorch side: one generator per task, yielding (name, key, shape, samples) ----

def pytorch_c2v(size: dict, precision: str, runs: int):
    port = load_module("latte_skip", REPO / "tools/demo-model/latte_skip.py")
    torch.manual_seed(0)
    model = redraw_zeros(port.LatteSkip(**size))
    g = torch.Generator().manual_seed(2)
    s, f, c = size["latent_size"], size["num_frames"], size["in_channels"]
    for batch, name in ((1, "forward"), (2, "forward_cfg")):
        x = torch.randn(batch, f, c, s, s, generator=g)
        t = torch.full((batch,), 500, dtype=torch.long)
        y = torch.tensor([0, size["num_classes"]][:batch], dtype=torch.long)

        def run():
            with torch.no_grad(), autocast(precision):
                model(x, t, y)

        yield name, None, f"B{batch} {f}x{s}x{s}", measure(run, runs)


def pytorch_t2v(size: dict, precision: str, runs: int):
    port = load_module("latte_t2v_skip", REPO / "tools/demo-t2v/latte_t2v_skip.py")
    size = dict(size)
    tokens = size.pop("tokens")
    torch.manual_seed(0)
    model = redraw_zeros(port.LatteT2VSkip(**size))
    g = torch.Generator().manual_seed(2)
    s, f = size["sample_size"], size["video_length"]
    x = torch.randn(2, size["in_channels"], f, s, s, generator=g)
    t = torch.full((2,), 500, dtype=torch.long)
    captions = torch.randn(2, tokens, size["caption_channels"], generator=g)

    def run():
        with torch.no_grad(), autocast(precision):
            model(x, t, captions)

    yield "t2v_forward_cfg", None, f"B2 {f}x{s}x{s} L{tokens}", measure(run, runs)


def pytorch_vae(size: dict, precision: str, runs: int):
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=size["block_out_channels"],
        layers_per_block=size["layers_per_block"], act_fn="silu", latent_channels=4,
        norm_num_groups=size["norm_num_groups"], sample_size=256).eval()
    g = torch.Generator().manual_seed(2)
    for pixels in size["pixels"]:
        z = torch.randn(1, 4, pixels // 8, pixels // 8, generator=g)

        def run():
            with torch.no_grad(), autocast(precision):
                vae.decode(z)

        shape = f"{pixels}x{pixels}"
        yield "vae", shape, shape, measure(run, runs)


PYTORCH = dict(c2v=pytorch_c2v, t2v=pytorch_t2v, vae=pytorch_vae)


# ---- the skipdit side ----

def skipdit_rows(binary: pathlib.Path, task: str, precision: str, threads: int, runs: int) -> list:
    """Runs skipdit's own bench for `task` and returns its JSON rows (its progress goes to stderr)."""
    common = ["--backend", SKIPDIT_BACKEND, "--precision", precision, "--threads", str(threads),
              "--runs", str(runs), "--warmup", "1", "--json"]
    if task == "vae":
        cmd = [str(binary), "bench", "vae"] + common
    else:
        cmd = [str(binary), "bench", "forward", "--task", task] + common
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench-peer: `{' '.join(cmd)}` failed with status {proc.returncode}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def skipdit_match(rows: list, name: str, key):
    """The skipdit row for a PyTorch measurement: same name (forward, forward_cfg, t2v_forward_cfg,
    vae) and, for the VAE, the same frame size ("256x256")."""
    for r in rows:
        if r.get("name") == name and (key is None or r.get("shape") == key):
            return r
    return None


# ---- output ----

def fmt(x, digits):
    return "-" if x is None else f"{x:.{digits}f}"


def table(rows: list) -> str:
    header = ["measurement", "precision", "shape", "PyTorch s", "PyTorch GFLOP/s", "skipdit s",
              "skipdit GFLOP/s", "ratio"]
    cells = [[r["name"], r["precision"], r["shape"], fmt(r["pytorch_seconds"], 3), fmt(r["pytorch_gflops"], 1),
              fmt(r["skipdit_seconds"], 3), fmt(r["skipdit_gflops"], 1),
              "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"] for r in rows]
    widths = [max(len(c[i]) for c in [header] + cells) for i in range(len(header))]

    def line(c):
        return "  ".join(s.rjust(w) if i >= 3 else s.ljust(w) for i, (s, w) in enumerate(zip(c, widths))).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(c) for c in cells])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skipdit", type=pathlib.Path, default=REPO / ".build/release/skipdit",
                   help="the skipdit binary (default: .build/release/skipdit in the repository)")
    p.add_argument("--tasks", default="c2v,vae", help="comma list of c2v, t2v, vae (default: c2v,vae)")
    p.add_argument("--precisions", default="fp32,bf16", help="comma list of fp32, bf16 (default: both)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads of both sides (default: all cores)")
    p.add_argument("--runs", type=int, default=2, help="timed runs per measurement, best reported (default: 2)")
    p.add_argument("--json", action="store_true", help="one JSON object per measurement and line")
    p.add_argument("--size", choices=("full", "tiny"), default="full",
                   help="tiny: small models, PyTorch only, to check this script (default: full)")
    args = p.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    precisions = [x for x in args.precisions.split(",") if x]
    for t in tasks:
        if t not in TASKS:
            p.error(f"unknown task {t!r} (choose from {', '.join(TASKS)})")
    for x in precisions:
        if x not in PRECISIONS:
            p.error(f"unknown precision {x!r} (choose from {', '.join(PRECISIONS)})")
    if args.threads < 1 or args.runs < 1:
        p.error("--threads and --runs must be at least 1")
    with_skipdit = args.size == "full"
    if with_skipdit and not os.access(args.skipdit, os.X_OK):
        sys.exit(f"bench-peer: {args.skipdit} is missing; run `make bench-peer` (it builds first)")
    if not with_skipdit:
        print("bench-peer: --size tiny: skipdit skipped (its benches run the released sizes only)",
              file=sys.stderr)

    torch.set_num_threads(args.threads)
    cpu = cpu_model()

    def emit(row):
        if args.json:
            print(json.dumps(row, sort_keys=True), flush=True)

    def progress(text):
        if not args.json:
            print("  " + text, file=sys.stderr, flush=True)

    combined = []
    for task in tasks:
        for precision in precisions:
            measured = []
            for m in PYTORCH[task](SIZES[args.size][task], precision, args.runs):
                progress(f"{m[0]} pytorch {precision} {m[2]}: best {min(m[3]):.3f} s")
                measured.append(m)
            gc.collect()  # the PyTorch model is gone before skipdit loads its own
            rows = skipdit_rows(args.skipdit, task, precision, args.threads, args.runs) if with_skipdit else []
            for name, key, shape, samples in measured:
                best, median = min(samples), float(np.median(samples))
                s = skipdit_match(rows, name, key)
                flops = s["gflops"] * s["seconds"] * 1e9 if s and s.get("gflops") is not None else None
                emit(dict(name=name, backend="pytorch", precision=precision, shape=shape, seconds=best,
                          median_seconds=median, gflops=flops / best / 1e9 if flops else None,
                          median_gflops=flops / median / 1e9 if flops else None, runs=len(samples),
                          samples=samples, threads=args.threads, cpu=cpu, library=f"torch {torch.__version__}"))
                if with_skipdit and s is None:
                    print(f"bench-peer: skipdit printed no {name} {key or ''} row for {task} {precision}",
                          file=sys.stderr)
                if s is not None:
                    emit(s)
                    progress(f"{name} skipdit {precision} {s['shape']}: best {s['seconds']:.3f} s")
                row = dict(name="peer_" + name, backend=s["backend"] if s else SKIPDIT_BACKEND,
                           precision=precision, shape=s["shape"] if s else shape, pytorch_seconds=best,
                           pytorch_gflops=flops / best / 1e9 if flops else None,
                           skipdit_seconds=s["seconds"] if s else None,
                           skipdit_gflops=s.get("gflops") if s else None,
                           ratio=best / s["seconds"] if s else None, threads=args.threads, cpu=cpu,
                           torch=torch.__version__)
                if s is not None:
                    emit(row)
                combined.append(row)
    if not args.json:
        print(table(combined))
        print(f"cpu: {cpu}, threads: {args.threads}, torch {torch.__version__}; "
              f"skipdit --backend {SKIPDIT_BACKEND}; "
              f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}; best of {args.runs} after 1 warm-up; "
              "ratio = PyTorch s / skipdit s")


if __name__ == "__main__":
    main()
