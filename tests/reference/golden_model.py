#!/usr/bin/python3
"""PyTorch's results for the whole contrastive model (tests/reference/model.py, engine/nn/model.h)
on a tiny configuration, written to tests/nn/golden-model.safetensors for the C engine's test
(test-nn-model-golden) to match: the loss and its two parts, the embeddings, the positives of the
phase loss, a few intermediate activations and every parameter's gradient.

Inputs and weights are drawn in float32 (stored as F32: the float and the double C paths start
from the same numbers); everything computed is float64 (stored as F64). The weights are drawn
with std 0.2 (LayerNorm weights 1 + 0.2 N), not the model's own initialisation, so that the
activations are not tiny and every path carries gradient.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/golden_model.py [out-path]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import HeartphaseModel, ecg_token_phases, cine_token_phases, circular_distance, \
    write_safetensors  # noqa: E402

CONFIG = dict(leads=12, strip_samples=16, strip_patch=8, beat_samples=16, beat_patch=4,
              beat_r_sample=6, fs_hz=500.0, cine_slices=2, cine_frames=4, cine_size=8,
              tube_frames=2, tube_size=4, width=8, depth=2, heads=2, mlp_ratio=2, embed_dim=4,
              temperature=0.1, learn_temperature=True, phase_weight=0.5)
B = 3

torch.manual_seed(20261207)
c = CONFIG


def rnd(*shape, std=1.0):
    """float32 values (held in float64)."""
    return (std * torch.randn(*shape, dtype=torch.float32)).float().double()


strip = rnd(B, c["leads"], c["strip_samples"])
beat = rnd(B, c["leads"], c["beat_samples"])
cine = rnd(B, c["cine_slices"], c["cine_frames"], c["cine_size"], c["cine_size"])
# the frames' phases: increasing around the cycle from a random start, wrapping past 1
start = torch.rand(B, dtype=torch.float32).double()
jitter = 0.05 * torch.rand(B, c["cine_frames"], dtype=torch.float32).double()
frame_phase = torch.remainder(start[:, None] + (torch.arange(c["cine_frames"]) + jitter)
                              / c["cine_frames"], 1.0).float()
# beat tokens sit at -8, 0, 8, 16 ms from R here: a R-R of 10-30 ms spreads them over the cycle
rr_ms = torch.tensor([13.0, 21.0, 27.0], dtype=torch.float32)

model = HeartphaseModel(CONFIG).double()
with torch.no_grad():
    for name, p in model.named_parameters():
        if name == "log_tau":
            p.copy_(torch.tensor(math.log(0.12), dtype=torch.float32).double())
        elif name.endswith(".weight") and (".norm" in name):
            p.copy_((1.0 + rnd(*p.shape, std=0.2)).float().double())
        else:
            p.copy_(rnd(*p.shape, std=0.2))

out = model(strip, beat, cine, frame_phase, rr_ms)
out["loss"].backward()

# the positives must not hang on a near tie (the C side computes the phases its own way)
pu, pv = ecg_token_phases(c, rr_ms), cine_token_phases(c, frame_phase)
d = circular_distance(pu[:, :, None], pv[:, None, :])
gap_u = (d.sort(dim=-1).values[..., 1] - d.sort(dim=-1).values[..., 0]).min().item()
gap_v = (d.transpose(1, 2).sort(dim=-1).values[..., 1]
         - d.transpose(1, 2).sort(dim=-1).values[..., 0]).min().item()
print("ECG token phases", pu.numpy().round(4).tolist())
print("frame token phases", pv.numpy().round(4).tolist())
print("pos_u", out["pos_u"].tolist(), " pos_v", out["pos_v"].tolist())
print(f"smallest margin to a tie: {gap_u:.4f} (ECG tokens), {gap_v:.4f} (frame tokens)")
assert gap_u > 0.005 and gap_v > 0.005, "a positive is too near a tie: change the phases"
assert len(set(out["pos_v"].reshape(-1).tolist())) > 1, "the positives are all equal"
print(f"loss {out['loss'].item():.6f}  global {out['loss_global'].item():.6f}  "
      f"phase {out['loss_phase'].item():.6f}")

tensors = {
    "input.strip": strip.float(), "input.beat": beat.float(), "input.cine": cine.float(),
    "input.frame_phase": frame_phase.float(), "input.rr_ms": rr_ms.float(),
    "out.loss": out["loss"].detach(), "out.loss_global": out["loss_global"].detach(),
    "out.loss_phase": out["loss_phase"].detach(),
    "out.z_ecg": out["z_ecg"].detach(), "out.z_cmr": out["z_cmr"].detach(),
    "out.pos_u": out["pos_u"].to(torch.int64), "out.pos_v": out["pos_v"].to(torch.int64),
    "act.strip.tokens": out["strip_tokens"].detach(),
    "act.beat.phase": out["beat_phase"].detach(),
    "act.cine.frames": out["cine_frames"].detach(),
}
for name, p in model.named_parameters():
    tensors[name] = p.detach().float()       # float32 values: stored exactly as F32
    tensors["grad." + name] = p.grad.detach().double()
for k, v in list(tensors.items()):
    assert torch.isfinite(v.double()).all(), k
for name, p in model.named_parameters():     # every input of the sums is float32-exact
    assert torch.equal(p.detach(), p.detach().float().double()), name

here = os.path.dirname(os.path.abspath(__file__))
target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "nn",
                                                              "golden-model.safetensors")
write_safetensors(target, tensors, {"config": json.dumps(CONFIG), "torch": torch.__version__,
                                    "script": "tests/reference/golden_model.py"})
print(f"{len(tensors)} tensors, {os.path.getsize(target)} bytes written to "
      f"{os.path.normpath(target)}")
