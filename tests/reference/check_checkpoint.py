#!/usr/bin/python3
"""Loads a checkpoint written by heartphase-train into the PyTorch reference model and embeds the
inputs the C test stored beside it: the embeddings must equal the engine's. The cines are given
as the dataset holds them (input.cine_raw) and standardised here as the checkpoint's config says
(standardise_cine), which must give the engine's reader's input.cine. Exit 0 when all agree, 1
when not, 77 (a skip) where PyTorch is not installed.

Usage: check_checkpoint.py CHECKPOINT IO
  (IO: input.strip, input.beat, input.cine, input.cine_raw, out.z_ecg, out.z_cmr)
"""
import json
import sys

try:
    import torch
except ImportError:
    print("PyTorch (Debian's python3-torch) is not installed")
    sys.exit(77)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model import HeartphaseModel, read_safetensors, standardise_cine  # noqa: E402

checkpoint, io = sys.argv[1], sys.argv[2]
_, meta = read_safetensors(checkpoint)
config = json.loads(meta["config"])["model"]
model = HeartphaseModel(config).double()
model.load_safetensors(checkpoint)
t, _ = read_safetensors(io)
cine = t["input.cine_raw"].double()
if config.get("cine_standardise", False):
    cine = standardise_cine(cine)
cine_error = float((cine - t["input.cine"].double()).abs().max())
with torch.no_grad():
    z_ecg, z_cmr = model.embed(t["input.strip"].double(), t["input.beat"].double(), cine)
worst = max(float((z_ecg - t["out.z_ecg"].double()).abs().max()),
            float((z_cmr - t["out.z_cmr"].double()).abs().max()))
print(json.dumps({"torch": torch.__version__, "max_abs_error": worst,
                  "cine_standardised": bool(config.get("cine_standardise", False)),
                  "cine_max_abs_error": cine_error, "tensors_loaded": len(model.state_dict())}))
sys.exit(0 if worst < 1e-5 and cine_error < 1e-5 else 1)
