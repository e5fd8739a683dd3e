#!/usr/bin/python3
"""The PyTorch side of the GPU benchmark (tools/gpu-check.sh bench): the reference model of
model.py trained as tests/nn/cuda-bench times Heartphase's engine, at the same config and batch,
in PyTorch eager and under torch.compile; then the table of both against each other.

  bench_gpu.py HEARTPHASE.json [--device cuda|cpu] [--modes eager,compile] [--peak-tflops 800]

HEARTPHASE.json is cuda-bench's output (its config, batch, step count and figures). Each step is
what cuda-bench's is: zero the gradients, forward and backward, clip to norm 1, AdamW; the batch
is copied from host memory to the device each step, as the engine's is; TF32 matrix products
when the engine ran with TF32 (its config's "tf32"), strict FP32 otherwise. Time is taken to
the device's end of each step (torch.cuda.synchronize) and the median is kept.

Model FLOPs are counted from the config (the matrix products of the patch embeddings, attention,
MLPs and heads, and the two losses' similarity matrices; a training step as three forward passes),
the same count for every engine, so that the utilisation figures compare like with like: MFU =
FLOPs per step x steps per second / the peak given (800 TFLOP/s: the H100's dense BF16, as the
training-engine issue states it).

Prints the table, and one JSON object as the last line.
"""
import argparse
import json
import statistics
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model import HeartphaseModel  # noqa: E402


def encoder_flops(tokens, patch_dim, c):
    """Forward FLOPs of one encoder for one subject (2 per multiply-add)."""
    T, W, H = tokens, c["width"], c["mlp_ratio"] * c["width"]
    f = 2 * T * patch_dim * W                      # patch embedding
    per_block = (2 * T * W * 3 * W                 # qkv
                 + 2 * T * T * W                   # q k^T over all heads
                 + 2 * T * T * W                   # attention times v
                 + 2 * T * W * W                   # proj
                 + 2 * 2 * T * W * H)              # fc1, fc2
    return f + c["depth"] * per_block


def model_flops_per_sample(c, batch):
    """Forward FLOPs per subject of model.py's forward at this batch."""
    W, E = c["width"], c["embed_dim"]
    strip_t = c["leads"] * (c["strip_samples"] // c["strip_patch"])
    beat_p = c["beat_samples"] // c["beat_patch"]
    beat_t = c["leads"] * beat_p
    ft = c["cine_frames"] // c["tube_frames"]
    cine_t = ft * (c["cine_size"] // c["tube_size"]) ** 2
    cine_k = c["cine_slices"] * c["tube_frames"] * c["tube_size"] ** 2
    f = (encoder_flops(strip_t, c["strip_patch"], c) + encoder_flops(beat_t, c["beat_patch"], c)
         + encoder_flops(cine_t, cine_k, c))
    f += 2 * 2 * W * E + 2 * beat_p * W * E + 2 * ft * W * E     # the four heads
    f += 2 * batch * E                                           # its row of the CLIP logits
    f += 2 * beat_p * batch * ft * E                             # its phase tokens' logits
    return f


def make_batch(c, batch):
    g = torch.Generator().manual_seed(5)
    strip = torch.rand(batch, c["leads"], c["strip_samples"], generator=g) * 2 - 1
    beat = torch.rand(batch, c["leads"], c["beat_samples"], generator=g) * 2 - 1
    cine = torch.rand(batch, c["cine_slices"], c["cine_frames"], c["cine_size"], c["cine_size"],
                      generator=g) * 4 - 2
    phase = (torch.arange(c["cine_frames"]).float() / c["cine_frames"]).repeat(batch, 1)
    rr = torch.tensor([700.0 + (i % 7) * 50 for i in range(batch)])
    return strip, beat, cine, phase, rr


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def run(c, batch, steps, warmup, device, mode):
    torch.manual_seed(1)
    model = HeartphaseModel(c).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    fwd = model
    if mode == "compile":
        if not hasattr(torch, "compile"):
            raise RuntimeError(f"torch {torch.__version__} has no torch.compile")
        fwd = torch.compile(model)
    host = make_batch(c, batch)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, loss = [], float("nan")
    t_first = time.perf_counter()
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        strip, beat, cine, phase, rr = (t.to(device) for t in host)
        opt.zero_grad(set_to_none=True)
        out = fwd(strip, beat, cine, phase, rr)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sync(device)
        if k == warmup - 1 or (warmup == 0 and k == 0):
            first_s = time.perf_counter() - t_first
        if k >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
        loss = float(out["loss"])
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else -1.0
    med = statistics.median(times)
    return {"engine": f"pytorch-{mode}", "median_ms": med, "samples_per_s": batch / (med / 1000),
            "peak_mem_mb": peak, "loss": loss, "warmup_s": first_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("heartphase_json")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--modes", default="eager,compile")
    ap.add_argument("--peak-tflops", type=float, default=800.0)
    a = ap.parse_args()
    ours = json.load(open(a.heartphase_json))
    cfg = ours["config"]
    c = dict(cfg["model"])
    batch, steps = ours["batch"], ours["steps"]
    if a.device == "cuda":
        tf32 = bool(cfg.get("tf32", False))
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    flops_step = 3 * model_flops_per_sample(c, batch) * batch
    rows = [ours]
    for mode in [m for m in a.modes.split(",") if m]:
        try:
            rows.append(run(c, batch, steps, 3, a.device, mode))
        except Exception as e:   # a failed compile is a finding, not the end of the table
            rows.append({"engine": f"pytorch-{mode}", "error": f"{type(e).__name__}: {e}"})
    peak = a.peak_tflops * 1e12
    name = torch.cuda.get_device_name() if a.device == "cuda" else "CPU"
    print(f"Training step of the {ours['preset']} model ({ours['parameters']} parameters), batch "
          f"{batch}, {steps} timed steps, on {name}; torch {torch.__version__}; "
          f"TF32 {'on' if cfg.get('tf32') and a.device == 'cuda' else 'off'}; {flops_step / 1e12:.3f} TFLOP per step")
    print(f"{'engine':<18} {'ms/step':>9} {'samples/s':>10} {'MFU':>7} {'peak MiB':>9} "
          f"{'vs eager':>9} {'vs compile':>10}")
    by = {r["engine"]: r for r in rows}
    for r in rows:
        if "error" in r:
            print(f"{r['engine']:<18} failed: {r['error'][:200]}")
            continue
        r["mfu"] = flops_step / (r["median_ms"] / 1000) / peak
        rel = []
        for ref in ("pytorch-eager", "pytorch-compile"):
            o = by.get(ref)
            rel.append(f"{r['samples_per_s'] / o['samples_per_s']:.2f}x"
                       if o is not None and "samples_per_s" in o else "-")
        print(f"{r['engine']:<18} {r['median_ms']:9.2f} {r['samples_per_s']:10.1f} "
              f"{100 * r['mfu']:6.2f}% {r['peak_mem_mb']:9.0f} {rel[0]:>9} {rel[1]:>10}")
    if ours.get("embed_s", -1) > 0:
        print(f"Embedding {ours['embed_subjects']} subjects (batches of {ours['embed_batch']}, "
              f"Heartphase, inputs copied in and embeddings out): {ours['embed_s']:.2f} s")
    print("Targets: Heartphase >= 1.0x eager and >= 0.8x compile in samples/s.")
    print(json.dumps({"flops_per_step": flops_step, "peak_tflops": a.peak_tflops,
                      "device": name, "torch": torch.__version__,
                      "rows": [{k: v for k, v in r.items() if k != "config"} for r in rows]}))


if __name__ == "__main__":
    main()
