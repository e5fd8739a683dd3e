#!/usr/bin/python3
"""Heartphase's contrastive model in PyTorch: the reference the C engine (engine/nn/model.c) is
checked against, module for module and name for name, as engine/nn/model.h specifies it.

  - Three encoders (one class, instances "strip", "beat", "cine"): a patch embedding into width W
    plus a learned position embedding per token, `depth` pre-LN transformer blocks (timm's ViT
    block: x + attn.proj(MHSA(attn.qkv(norm1(x)))), x + mlp.fc2(GELU(mlp.fc1(norm2(x))))), a final
    LayerNorm "norm".
  - strip [B, leads, strip_samples]: patches of 1 lead x strip_patch samples, tokens lead-major;
    its mean over tokens [B, W] goes into z_ecg.
  - beat [B, leads, beat_samples]: patches of 1 lead x beat_patch samples (P per lead), tokens
    lead-major; phase tokens = the mean over the leads of each time patch's token [B, P, W];
    u = phase_ecg(them). Its mean over all tokens [B, W] goes into z_ecg too.
  - z_ecg = head_ecg(strip's mean over tokens + beat's mean over tokens): the global ECG
    embedding sees the aligned representative beat.
  - cine [B, S, F, Y, X]: a Conv3d with S input channels, kernel = stride = (tf, ts, ts), tokens
    time-major then row then column; z_cmr = head_cmr(mean over tokens); frame tokens = the mean
    over the spatial tokens of each time index [B, F / tf, W]; v = phase_cmr(them).
  - loss = (1 - phase_weight) CLIP(l2n z_ecg, l2n z_cmr) + phase_weight PHASE(l2n u, l2n v), with
    tau = exp(log_tau) when learned (log_tau starts at log(temperature)), else temperature.
  - The cine goes in as the engine's data reader gives it: with "cine_standardise" in the config
    (the default since it exists) each subject's crop at mean 0 and standard deviation 1 over all
    its slices and frames; standardise_cine() does that to a crop as the dataset holds it.

state_dict() keys are the C engine's tensor names ("strip.patch.weight" [W, patch],
"cine.patch.weight" [W, S tf ts ts], "strip.pos" [T, W], "strip.blocks.0.attn.qkv.weight", ...,
"head_ecg.weight", "log_tau"), so a checkpoint the engine writes loads here (load_safetensors) and
one written here (save_safetensors) loads there.

Needs Debian's python3-torch:  /usr/bin/python3 -c "import tests.reference.model"
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_FIELDS = ("leads", "strip_samples", "strip_patch", "beat_samples", "beat_patch",
                 "beat_r_sample", "fs_hz", "cine_slices", "cine_frames", "cine_size",
                 "tube_frames", "tube_size", "width", "depth", "heads", "mlp_ratio", "embed_dim",
                 "temperature", "learn_temperature", "phase_weight")


def config_default():
    """hp_model_config_init: the reference study's sizes."""
    return dict(leads=12, strip_samples=2500, strip_patch=100, beat_samples=600, beat_patch=20,
                beat_r_sample=200, fs_hz=500.0, cine_slices=3, cine_frames=32, cine_size=64,
                tube_frames=2, tube_size=16, width=384, depth=3, heads=6, mlp_ratio=4,
                embed_dim=128, temperature=0.1, learn_temperature=False, phase_weight=0.5)


# ---- the transformer --------------------------------------------------------------------------
class Attention(nn.Module):
    """Multi-head self-attention, qkv split as timm's ViT does (q, k, v, then heads)."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        B, N, D = x.shape
        H = self.heads
        q, k, v = self.qkv(x).reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1) * (D // H) ** -0.5).softmax(dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(B, N, D))


class Mlp(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))     # exact (erf) GELU, nn.GELU()'s default


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = Mlp(width, mlp_ratio * width)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Encoder(nn.Module):
    """Patch embedding (an nn.Linear named "patch" whose weight [W, K] is the convolution's kernel
    flattened; the subclass says how the input is cut), position embedding "pos" [T, W], blocks,
    final norm."""

    def __init__(self, patch_dim, tokens, c):
        super().__init__()
        W = c["width"]
        self.patch = nn.Linear(patch_dim, W)
        self.pos = nn.Parameter(torch.zeros(tokens, W))
        self.blocks = nn.ModuleList(Block(W, c["heads"], c["mlp_ratio"]) for _ in range(c["depth"]))
        self.norm = nn.LayerNorm(W, eps=1e-5)

    def tokens(self, x):
        raise NotImplementedError

    def forward(self, x):
        x = self.tokens(x) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class SignalEncoder(Encoder):
    """x [B, C, t] in patches of 1 channel x p samples: a Conv2d with kernel = stride = (1, p)
    over x seen as [B, 1, C, t], tokens channel-major (hp_nn_patch_embed)."""

    def __init__(self, channels, samples, p, c):
        super().__init__(p, channels * (samples // p), c)
        self.p = p

    def tokens(self, x):
        B, C, t = x.shape
        W = self.patch.weight.shape[0]
        y = F.conv2d(x.reshape(B, 1, C, t), self.patch.weight.reshape(W, 1, 1, self.p),
                     self.patch.bias, stride=(1, self.p))
        return y.flatten(2).transpose(1, 2)


class CineEncoder(Encoder):
    """x [B, S, F, Y, X] in tubelets of S slices x tf frames x ts x ts pixels: a Conv3d with S
    input channels, kernel = stride = (tf, ts, ts); tokens time-major, then row, then column."""

    def __init__(self, c):
        S, tf, ts = c["cine_slices"], c["tube_frames"], c["tube_size"]
        T = (c["cine_frames"] // tf) * (c["cine_size"] // ts) ** 2
        super().__init__(S * tf * ts * ts, T, c)
        self.kernel = (S, tf, ts, ts)

    def tokens(self, x):
        W = self.patch.weight.shape[0]
        S, tf, ts, _ = self.kernel
        y = F.conv3d(x, self.patch.weight.reshape(W, *self.kernel), self.patch.bias,
                     stride=(tf, ts, ts))
        return y.flatten(2).transpose(1, 2)


# ---- the phases and the positives of the phase loss -------------------------------------------
def standardise_cine(cine):
    """[B, S, F, Y, X] -> each subject's crop shifted to mean 0 and scaled to (population)
    standard deviation 1; a blank crop becomes 0, as in the engine's reader."""
    flat = cine.reshape(cine.shape[0], -1)
    mean = flat.mean(dim=1, keepdim=True)
    sd = (flat - mean).pow(2).mean(dim=1, keepdim=True).sqrt()
    scale = torch.where(sd > 1e-6, 1 / sd, torch.zeros_like(sd))
    return ((flat - mean) * scale).reshape(cine.shape)


def circular_distance(a, b):
    d = torch.remainder(a - b, 1.0)
    return torch.minimum(d, 1.0 - d)


def ecg_token_phases(c, rr_ms):
    """[B, P]: ECG phase token k at t_k = (k + 0.5) beat_patch / fs - R's time (s), phase
    (t_k / rr) mod 1. Computed in float64."""
    P = c["beat_samples"] // c["beat_patch"]
    k = torch.arange(P, dtype=torch.float64)
    t = (k + 0.5) * c["beat_patch"] / c["fs_hz"] - c["beat_r_sample"] / c["fs_hz"]
    rr = rr_ms.to(torch.float64)[:, None] / 1000.0
    return torch.remainder(t[None, :] / rr, 1.0)


def cine_token_phases(c, frame_phase):
    """[B, F / tf]: the circular mean of each time token's tf frames' phases (float64)."""
    B, Fr = frame_phase.shape
    tf = c["tube_frames"]
    a = 2 * math.pi * frame_phase.to(torch.float64).reshape(B, Fr // tf, tf)
    m = torch.atan2(torch.sin(a).mean(-1), torch.cos(a).mean(-1)) / (2 * math.pi)
    return torch.remainder(m, 1.0)


def nearest(phase_from, phase_to):
    """For each token of phase_from [B, n], the index of the token of phase_to [B, m] of the same
    subject nearest in phase (circular distance; ties to the lower index: argmin's first)."""
    d = circular_distance(phase_from[:, :, None], phase_to[:, None, :])
    # torch.argmin does not promise the first of equal values: take it by hand
    best = d.min(dim=-1, keepdim=True).values
    idx = torch.arange(d.shape[-1]).expand_as(d)
    return torch.where(d == best, idx, d.shape[-1]).min(dim=-1).values


def positives(c, frame_phase, rr_ms):
    """pos_u [B, P] (a frame token per ECG token), pos_v [B, F / tf] (an ECG token per frame)."""
    pu, pv = ecg_token_phases(c, rr_ms), cine_token_phases(c, frame_phase)
    return nearest(pu, pv), nearest(pv, pu)


# ---- the losses -------------------------------------------------------------------------------
def clip_loss(a, b, tau):
    """Symmetric InfoNCE between rows of a and b [n, e] (L2-normalised)."""
    logits = a @ b.T / tau
    t = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2


def phase_loss(u, v, pos_u, pos_v, tau):
    """u [n, p, e], v [n, f, e] (L2-normalised): each ECG token against all n f frame tokens (target
    its positive), each frame token against all n p ECG tokens; the mean of the two mean CEs."""
    n, p, e = u.shape
    f = v.shape[1]
    logits = u.reshape(n * p, e) @ v.reshape(n * f, e).T / tau
    t_u = (torch.arange(n)[:, None] * f + pos_u).reshape(-1)
    t_v = (torch.arange(n)[:, None] * p + pos_v).reshape(-1)
    return (F.cross_entropy(logits, t_u) + F.cross_entropy(logits.T, t_v)) / 2


# ---- the model --------------------------------------------------------------------------------
class HeartphaseModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = dict(config)
        missing = [k for k in CONFIG_FIELDS if k not in c]
        if missing:
            raise ValueError("config lacks " + ", ".join(missing))
        for k in CONFIG_FIELDS:
            if k not in ("fs_hz", "temperature", "phase_weight", "learn_temperature"):
                c[k] = int(c[k])
        c["learn_temperature"] = bool(c["learn_temperature"])
        self.config = c
        W, E = c["width"], c["embed_dim"]
        self.strip = SignalEncoder(c["leads"], c["strip_samples"], c["strip_patch"], c)
        self.beat = SignalEncoder(c["leads"], c["beat_samples"], c["beat_patch"], c)
        self.cine = CineEncoder(c)
        self.head_ecg = nn.Linear(W, E)
        self.head_cmr = nn.Linear(W, E)
        self.phase_ecg = nn.Linear(W, E)
        self.phase_cmr = nn.Linear(W, E)
        if c["learn_temperature"]:
            self.log_tau = nn.Parameter(torch.tensor(math.log(c["temperature"])))
        else:
            self.log_tau = None
        self.init_weights(0)

    # -- initialisation as model.h says (not the C engine's random stream) --
    def init_weights(self, seed):
        g = torch.Generator().manual_seed(seed)

        def trunc(t):
            with torch.no_grad():
                v = torch.randn(t.shape, generator=g, dtype=torch.float64)
                while True:        # redraw beyond 2 sigma
                    bad = v.abs() > 2
                    if not bad.any():
                        break
                    v[bad] = torch.randn(int(bad.sum()), generator=g, dtype=torch.float64)
                t.copy_(0.02 * v)

        for name, p in self.named_parameters():
            with torch.no_grad():
                if name == "log_tau":
                    p.fill_(math.log(self.config["temperature"]))
                elif name.endswith(".pos"):
                    trunc(p)
                elif ".norm" in name or name.split(".")[-2] == "norm":
                    p.fill_(1.0 if name.endswith(".weight") else 0.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    trunc(p)

    def tau(self):
        c = self.config
        if self.log_tau is not None:
            return self.log_tau.exp()
        return torch.tensor(c["temperature"], dtype=self.head_ecg.weight.dtype)

    # -- the pieces, exposed for the golden file's intermediate activations --
    def strip_tokens(self, strip):
        """[B, T, W]: the strip encoder's output after its final norm."""
        return self.strip(strip)

    def beat_tokens(self, beat):
        """[B, 12 P, W]: the beat encoder's output after its final norm."""
        return self.beat(beat)

    def beat_phase_tokens(self, x):
        """x [B, 12 P, W] the beat encoder's output -> [B, P, W]: the mean over the leads of each
        time patch's token, before phase_ecg."""
        c = self.config
        B, T, W = x.shape
        return x.reshape(B, c["leads"], T // c["leads"], W).mean(dim=1)

    def cine_tokens(self, cine):
        return self.cine(cine)

    def cine_frame_tokens(self, x):
        """x [B, T, W] the cine encoder's output -> [B, F / tf, W] before phase_cmr."""
        c = self.config
        B, T, W = x.shape
        Ft = c["cine_frames"] // c["tube_frames"]
        return x.reshape(B, Ft, T // Ft, W).mean(dim=2)

    def ecg_pool(self, s, b):
        """head_ecg's input [B, W]: the strip's mean over its tokens s [B, T, W] plus the beat's
        mean over all its tokens b [B, 12 P, W], so that the global embedding sees the beat."""
        return s.mean(dim=1) + b.mean(dim=1)

    def embed_ecg(self, strip, beat):
        """The L2-normalised global ECG embedding [B, E] (hp_model_embed_ecg)."""
        pooled = self.ecg_pool(self.strip_tokens(strip), self.beat(beat))
        return F.normalize(self.head_ecg(pooled), dim=-1, eps=1e-12)

    def embed_cmr(self, cine):
        return F.normalize(self.head_cmr(self.cine_tokens(cine).mean(dim=1)), dim=-1, eps=1e-12)

    def embed(self, strip, beat, cine):
        """hp_model_embed: (z_ecg, z_cmr), L2-normalised."""
        return self.embed_ecg(strip, beat), self.embed_cmr(cine)

    def forward(self, strip, beat, cine, frame_phase, rr_ms):
        c = self.config
        s = self.strip_tokens(strip)
        b = self.beat_tokens(beat)
        z_ecg = F.normalize(self.head_ecg(self.ecg_pool(s, b)), dim=-1, eps=1e-12)
        ph = self.beat_phase_tokens(b)
        u = F.normalize(self.phase_ecg(ph), dim=-1, eps=1e-12)
        x = self.cine_tokens(cine)
        z_cmr = F.normalize(self.head_cmr(x.mean(dim=1)), dim=-1, eps=1e-12)
        fr = self.cine_frame_tokens(x)
        v = F.normalize(self.phase_cmr(fr), dim=-1, eps=1e-12)
        pos_u, pos_v = positives(c, frame_phase, rr_ms)
        tau = self.tau()
        lg = clip_loss(z_ecg, z_cmr, tau)
        lp = phase_loss(u, v, pos_u, pos_v, tau)
        w = c["phase_weight"]
        loss = (1 - w) * lg + w * lp
        return dict(loss=loss, loss_global=lg, loss_phase=lp, z_ecg=z_ecg, z_cmr=z_cmr, u=u, v=v,
                    pos_u=pos_u, pos_v=pos_v, strip_tokens=s, beat_phase=ph, cine_frames=fr)

    # -- checkpoints --
    def load_safetensors(self, path, strict=True):
        """Loads the parameters of a safetensors file (as the C engine writes it) by name; returns
        the file's metadata."""
        tensors, meta = read_safetensors(path)
        own = self.state_dict()
        if strict:
            missing = [k for k in own if k not in tensors]
            if missing:
                raise KeyError(f"{path} lacks " + ", ".join(missing))
        with torch.no_grad():
            for k, p in own.items():
                if k in tensors:
                    t = tensors[k]
                    if tuple(t.shape) != tuple(p.shape):
                        raise ValueError(f"{path}: {k} is {list(t.shape)}, the model's {list(p.shape)}")
                    p.copy_(t.to(p.dtype))
        return meta

    def save_safetensors(self, path, metadata=None, dtype=torch.float32):
        meta = {"config": json.dumps(self.config)}
        meta.update(metadata or {})
        write_safetensors(path, {k: v.to(dtype) for k, v in self.state_dict().items()}, meta)


# ---- safetensors, by hand: 8 bytes (little-endian) of header length, a JSON header, the data ----
_DTYPES = {"F64": (torch.float64, 8), "F32": (torch.float32, 4), "F16": (torch.float16, 2),
           "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8), "I32": (torch.int32, 4),
           "I16": (torch.int16, 2), "I8": (torch.int8, 1), "U8": (torch.uint8, 1),
           "BOOL": (torch.bool, 1)}
_NAMES = {v[0]: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """{name: tensor} and the "__metadata__" dict of a safetensors file."""
    with open(path, "rb") as fh:
        blob = fh.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if 8 + hlen > len(blob):
        raise ValueError(f"{path}: header runs past the end")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    data = blob[8 + hlen:]
    out = {}
    for name, h in header.items():
        if h["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: {name} has dtype {h['dtype']}")
        dtype, size = _DTYPES[h["dtype"]]
        b, e = h["data_offsets"]
        count = 1
        for s in h["shape"]:
            count *= s
        if e - b != count * size or e > len(data):
            raise ValueError(f"{path}: {name}'s byte range does not fit its shape")
        raw = bytearray(data[b:e])       # little-endian on every machine torch runs on here
        t = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(h["shape"]).clone()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """tensors {name: tensor} in their own dtypes; metadata {str: str}. Written whole to a
    temporary file, then renamed over path."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {t.dtype} has no safetensors name here")
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for blob in blobs:
            fh.write(blob)
    os.replace(tmp, path)
