#!/usr/bin/python3
"""Loads a checkpoint written by heartphase-train into the PyTorch reference model and embeds the
inputs the C test stored beside it: the embeddings must equal the engine's. Exit 0 when they do,
1 when not, 77 (a skip) where PyTorch is not installed.

Usage: check_checkpoint.py CHECKPOINT IO
  (IO: input.strip, input.beat, input.cine, out.z_ecg, out.z_cmr)
"""
import json
import sys

try:
    import torch
except ImportError:
    print("PyTorch (Debian's python3-torch) is not installed")
    sys.exit(77)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model import HeartphaseModel, read_safetensors  # noqa: E402

checkpoint, io = sys.argv[1], sys.argv[2]
_, meta = read_safetensors(checkpoint)
config = json.loads(meta["config"])["model"]
model = HeartphaseModel(config).double()
model.load_safetensors(checkpoint)
t, _ = read_safetensors(io)
with torch.no_grad():
    z_ecg, z_cmr = model.embed(t["input.strip"].double(), t["input.beat"].double(),
                               t["input.cine"].double())
worst = max(float((z_ecg - t["out.z_ecg"].double()).abs().max()),
            float((z_cmr - t["out.z_cmr"].double()).abs().max()))
print(json.dumps({"torch": torch.__version__, "max_abs_error": worst,
                  "tensors_loaded": len(model.state_dict())}))
sys.exit(0 if worst < 1e-5 else 1)
