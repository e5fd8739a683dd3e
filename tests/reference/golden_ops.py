#!/usr/bin/python3
"""PyTorch's own results for each op of Heartphase's nn stage, on small fixed inputs, written to
tests/nn/golden-ops.safetensors for the C engine's test (test-nn-golden) to match.

The ops are written here the way the reference model uses them (torch.nn modules and
torch.nn.functional), never from the C code: the file says what PyTorch computes. Inputs are
drawn in float32 and kept as such (stored as F64 holding float32 values, so both the float and
the double C paths start from the same numbers); every result is computed in float64.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/golden_ops.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import write_safetensors  # noqa: E402  (the format, written once)

torch.manual_seed(20261206)
torch.set_default_dtype(torch.float64)
out = {}


def rnd(*shape):
    """float32 values, held in float64."""
    return torch.randn(*shape, dtype=torch.float32).double()


def put(name, t):
    out[name] = t.detach().clone()


def grads(loss_fn, *leaves):
    for x in leaves:
        x.grad = None
    loss = loss_fn()
    loss.backward()
    return [x.grad for x in leaves]


# ---- linear: nn.Linear(5, 4) on x[3, 5] -------------------------------------------------------
lin = torch.nn.Linear(5, 4)
with torch.no_grad():
    lin.weight.copy_(rnd(4, 5))
    lin.bias.copy_(rnd(4))
x = rnd(3, 5).requires_grad_()
g = rnd(3, 4)
y = lin(x)
(y * g).sum().backward()
for k, v in [("x", x), ("w", lin.weight), ("b", lin.bias), ("g", g), ("out", y)]:
    put("linear." + k, v)
put("linear.d_x", x.grad)
put("linear.d_w", lin.weight.grad)
put("linear.d_b", lin.bias.grad)

# ---- layernorm: nn.LayerNorm(6) (eps 1e-5) on x[3, 6] ---------------------------------------------
ln = torch.nn.LayerNorm(6)
with torch.no_grad():
    ln.weight.copy_(rnd(6))
    ln.bias.copy_(rnd(6))
x = rnd(3, 6).requires_grad_()
g = rnd(3, 6)
y = ln(x)
(y * g).sum().backward()
for k, v in [("x", x), ("w", ln.weight), ("b", ln.bias), ("g", g), ("out", y)]:
    put("layernorm." + k, v)
put("layernorm.d_x", x.grad)
put("layernorm.d_w", ln.weight.grad)
put("layernorm.d_b", ln.bias.grad)

# ---- gelu: nn.GELU() (erf) -----------------------------------------------------------------------
x = (3 * rnd(10)).requires_grad_()
g = rnd(10)
y = torch.nn.GELU()(x)
(y * g).sum().backward()
put("gelu.x", x)
put("gelu.g", g)
put("gelu.out", y)
put("gelu.d_x", x.grad)

# ---- patch embedding: Conv2d(1, e, (1, p), stride (1, p)) over x[b, c, t] seen as [b, 1, c, t],
# tokens channel-major, plus a learned position embedding ---------------------------------------
b_, c_, t_, p_, e_ = 2, 3, 8, 4, 5
conv = torch.nn.Conv2d(1, e_, (1, p_), stride=(1, p_))
with torch.no_grad():
    conv.weight.copy_(rnd(e_, 1, 1, p_))
    conv.bias.copy_(rnd(e_))
pos = rnd(c_ * (t_ // p_), e_).requires_grad_()
x = rnd(b_, c_, t_).requires_grad_()
y = conv(x.view(b_, 1, c_, t_)).flatten(2).transpose(1, 2) + pos
g = rnd(*y.shape)
(y * g).sum().backward()
put("patch.x", x)
put("patch.w", conv.weight.reshape(e_, p_))
put("patch.bias", conv.bias)
put("patch.pos", pos)
put("patch.g", g)
put("patch.out", y)
put("patch.d_x", x.grad)
put("patch.d_w", conv.weight.grad.reshape(e_, p_))
put("patch.d_bias", conv.bias.grad)
put("patch.d_pos", pos.grad)

# ---- mean over tokens -------------------------------------------------------------------------------
x = rnd(2, 4, 3).requires_grad_()
y = x.mean(dim=1)
g = rnd(2, 3)
(y * g).sum().backward()
put("pool.x", x)
put("pool.g", g)
put("pool.out", y)
put("pool.d_x", x.grad)

# ---- attention core, as timm's ViT splits qkv ---------------------------------------------------
B, N, D, H = 2, 5, 6, 2
qkv = rnd(B, N, 3 * D).requires_grad_()
q, k, v = qkv.reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
att = (q @ k.transpose(-2, -1) * (D // H) ** -0.5).softmax(dim=-1)
y = (att @ v).transpose(1, 2).reshape(B, N, D)
g = rnd(B, N, D)
(y * g).sum().backward()
put("attention.qkv", qkv)
put("attention.g", g)
put("attention.out", y)
put("attention.att", att)
put("attention.d_qkv", qkv.grad)

# ---- L2 normalisation of rows (F.normalize) ---------------------------------------------------------
x = rnd(4, 3).requires_grad_()
y = F.normalize(x, dim=-1)
g = rnd(4, 3)
(y * g).sum().backward()
put("l2norm.x", x)
put("l2norm.g", g)
put("l2norm.out", y)
put("l2norm.d_x", x.grad)

# ---- the global loss: symmetric InfoNCE (CLIP), temperature learned as log tau ----------------------
n, e = 4, 3
a = F.normalize(rnd(n, e), dim=-1).float().double().requires_grad_()
bb = F.normalize(rnd(n, e), dim=-1).float().double().requires_grad_()
log_tau = torch.tensor(0.1).float().double().log().requires_grad_()
logits = a @ bb.T / log_tau.exp()
target = torch.arange(n)
loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
loss.backward()
put("clip.a", a)
put("clip.b", bb)
put("clip.tau", log_tau.exp())
put("clip.loss", loss)
put("clip.d_a", a.grad)
put("clip.d_b", bb.grad)
put("clip.d_log_tau", log_tau.grad)

# ---- the phase-level loss ------------------------------------------------------------------------------
n, p, f, e = 3, 4, 5, 3
u = F.normalize(rnd(n, p, e), dim=-1).float().double().requires_grad_()
v = F.normalize(rnd(n, f, e), dim=-1).float().double().requires_grad_()
pos_u = torch.randint(0, f, (n, p))
pos_v = torch.randint(0, p, (n, f))
log_tau = torch.tensor(0.07).float().double().log().requires_grad_()
logits = u.reshape(n * p, e) @ v.reshape(n * f, e).T / log_tau.exp()
t_u = (torch.arange(n)[:, None] * f + pos_u).reshape(-1)
t_v = (torch.arange(n)[:, None] * p + pos_v).reshape(-1)
loss = (F.cross_entropy(logits, t_u) + F.cross_entropy(logits.T, t_v)) / 2
loss.backward()
put("phase.u", u)
put("phase.v", v)
put("phase.pos_u", pos_u)
put("phase.pos_v", pos_v)
put("phase.tau", log_tau.exp())
put("phase.loss", loss)
put("phase.d_u", u.grad)
put("phase.d_v", v.grad)
put("phase.d_log_tau", log_tau.grad)

# ---- AdamW: two steps of torch.optim.AdamW, in float32 as the engine keeps its weights ----------------
w = rnd(5).float().requires_grad_()
put("adamw.w0", w.double())
opt = torch.optim.AdamW([w], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
for step in (1, 2):
    gw = rnd(5).float()
    put("adamw.g%d" % step, gw.double())
    w.grad = gw
    opt.step()
    put("adamw.w%d" % step, w.double())

# ---- gradient clipping: clip_grad_norm_ over two arrays ---------------------------------------------
g1, g2 = (3 * rnd(3)).float(), (3 * rnd(4)).float()
put("clipgrad.g1", g1.double())
put("clipgrad.g2", g2.double())
p1, p2 = torch.zeros(3, dtype=torch.float32, requires_grad=True), torch.zeros(4, dtype=torch.float32, requires_grad=True)
p1.grad, p2.grad = g1.clone(), g2.clone()
norm = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0)
put("clipgrad.norm", norm.double())
put("clipgrad.out1", p1.grad.double())
put("clipgrad.out2", p2.grad.double())


here = os.path.dirname(os.path.abspath(__file__))
target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "nn", "golden-ops.safetensors")
write_safetensors(target, {k: v.double() if v.is_floating_point() else v for k, v in out.items()},
                  {"torch": torch.__version__, "script": "tests/reference/golden_ops.py"})
print(f"{len(out)} tensors written to {os.path.normpath(target)}")
