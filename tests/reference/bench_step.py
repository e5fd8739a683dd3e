#!/usr/bin/python3
"""Times one training step (forward, backward, AdamW) of the PyTorch reference model on the CPU,
for tests/bench/bench-train-step.c, which runs this script beside its own timing of the same step
and reports the ratio. Prints one JSON object: {"median_ms": ..., "torch": ..., "threads": ...}.

Usage: bench_step.py CONFIG_JSON BATCH THREADS REPEATS
"""
import json
import statistics
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model import HeartphaseModel  # noqa: E402


def main():
    config = json.loads(sys.argv[1])
    batch, threads, repeats = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    c = config
    model = HeartphaseModel(c).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    strip = torch.randn(batch, c["leads"], c["strip_samples"])
    beat = torch.randn(batch, c["leads"], c["beat_samples"])
    cine = torch.rand(batch, c["cine_slices"], c["cine_frames"], c["cine_size"], c["cine_size"])
    frame_phase = (torch.arange(c["cine_frames"]).float() / c["cine_frames"]).repeat(batch, 1)
    rr = torch.full((batch,), 900.0)
    times = []
    for k in range(repeats + 2):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = model(strip, beat, cine, frame_phase, rr)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        if k >= 2:        # the first steps allocate
            times.append(dt * 1000)
    print(json.dumps({"median_ms": statistics.median(times), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
