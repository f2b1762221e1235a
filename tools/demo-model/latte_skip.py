"""A compact PyTorch Latte-skip (class-conditional Skip-DiT video transformer) with exactly the
state-dict names, shapes and forward semantics of the official `Latte_skip` (Skip-DiT
class-to-video/models/latte.py), as written down in shared/spec/class-to-video.md sections 3-4.

Shapes (legend: B batch, F frames, C latent channels, H = W latent side, p patch, G = H/p,
T = G*G tokens per frame, D hidden):
  input  x (B, F, C, H, W), t (B,) int timesteps in 0..999, y (B,) int labels (num_classes = null)
  output (B, F, 2C, H, W): channels 0..C-1 = eps, C..2C-1 = variance interpolation value v.

Only depth 28 gives the official skip wiring (7 fusion modules, pairs 7..13 pop the skips of
pairs 6..0), so depth is fixed at 28. Label dropout for classifier-free guidance is done by the
training loop (train_latte.py), not by the module.
"""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEPTH = 28


def sincos_2d(dim: int, grid: int) -> np.ndarray:
    """(T, D) 2-D sin-cos table: first D/2 channels encode the column, second D/2 the row (spec 4.2)."""
    q = dim // 4
    omega = 1.0 / 10000 ** (np.arange(q, dtype=np.float64) / q)
    rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    def half(pos):
        out = np.einsum("n,k->nk", pos.reshape(-1).astype(np.float64), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    return np.concatenate([half(cols), half(rows)], axis=1).astype(np.float32)


def sincos_1d(dim: int, length: int) -> np.ndarray:
    """(F, D) temporal sin-cos table: [sin | cos] over D/2 frequencies (spec 4.3)."""
    p = dim // 2
    omega = 1.0 / 10000 ** (np.arange(p, dtype=np.float64) / p)
    out = np.einsum("f,k->fk", np.arange(length, dtype=np.float64), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1).astype(np.float32)


def modulate(x, shift, scale):
    """x (B, R, N, D) with per-sample shift/scale (B, D) broadcast over the R rows and N positions."""
    return x * (1 + scale[:, None, None]) + shift[:, None, None]


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, in_channels: int, hidden: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, hidden, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x):  # (R, C, H, W) -> (R, T, D)
        return self.proj(x).flatten(2).transpose(1, 2)


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    @staticmethod
    def sinusoid(t, dim: int, max_period: float = 10000.0):
        """(B,) -> (B, dim) [cos | sin], computed in float32 like the official code (spec 4.4)."""
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, t):
        return self.mlp(self.sinusoid(t, self.freq_dim))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes: int, hidden: int):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, hidden)  # last row: null class

    def forward(self, y):
        return self.embedding_table(y)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # (R, N, D)
        r, n, d = x.shape
        qkv = self.qkv(x).reshape(r, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        out = attn.softmax(dim=-1) @ v  # (R, nh, N, hd)
        return self.proj(out.transpose(1, 2).reshape(r, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    """adaLN-Zero transformer block (spec 4.8)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim, bias=True))

    def forward(self, x, c):
        """x (B*R, N, D) with R rows per sample, c (B, D). The official code repeats c to B*R rows;
        projecting once per sample and broadcasting is identical (spec 4.6) and much cheaper."""
        (rows, n, d), b = x.shape, c.shape[0]
        s1, c1, g1, s2, c2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x.view(b, rows // b, n, d)
        h = modulate(F.layer_norm(x, (d,), eps=1e-6), s1, c1).view(rows, n, d)
        x = x + g1[:, None, None] * self.attn(h).view(b, rows // b, n, d)
        h = modulate(F.layer_norm(x, (d,), eps=1e-6), s2, c2)
        x = x + g2[:, None, None] * self.mlp(h)
        return x.view(rows, n, d)


class FinalLayer(nn.Module):
    def __init__(self, dim: int, patch: int, out_channels: int):
        super().__init__()
        self.linear = nn.Linear(dim, patch * patch * out_channels, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim, bias=True))

    def forward(self, x, c):  # x (B*F, T, D), c (B, D) -> (B*F, T, p*p*2C)
        (rows, n, d), b = x.shape, c.shape[0]
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        h = modulate(F.layer_norm(x.view(b, rows // b, n, d), (d,), eps=1e-6), shift, scale)
        return self.linear(h).view(rows, n, -1)


class SkipLinear(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return self.linear(x)


class LatteSkip(nn.Module):
    """Latte-skip, class-conditional (extras = 2) with learned sigma."""

    def __init__(self, latent_size=8, patch_size=2, in_channels=4, hidden_size=64, num_heads=4,
                 num_frames=16, num_classes=7, mlp_ratio=4.0):
        super().__init__()
        d = hidden_size
        self.in_channels, self.out_channels = in_channels, in_channels * 2
        self.patch, self.heads, self.num_classes = patch_size, num_heads, num_classes
        grid = latent_size // patch_size
        # Registration order = official state-dict order.
        self.pos_embed = nn.Parameter(torch.from_numpy(sincos_2d(d, grid))[None], requires_grad=False)
        self.temp_embed = nn.Parameter(torch.from_numpy(sincos_1d(d, num_frames))[None], requires_grad=False)
        self.x_embedder = PatchEmbed(patch_size, in_channels, d)
        self.t_embedder = TimestepEmbedder(d)
        self.y_embedder = LabelEmbedder(num_classes, d)
        self.skip_norms = nn.ModuleList([nn.LayerNorm(2 * d, eps=1e-6) for _ in range(DEPTH // 4)])
        self.skip_linears = nn.ModuleList([SkipLinear(d) for _ in range(DEPTH // 4)])
        self.blocks = nn.ModuleList([Block(d, num_heads, mlp_ratio) for _ in range(DEPTH)])
        self.final_layer = FinalLayer(d, patch_size, self.out_channels)
        self.initialize_weights()

    def initialize_weights(self):
        """DiT/Latte initialisation: xavier linears, zeroed adaLN and output layer (adaLN-Zero)."""
        def basic(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.apply(basic)
        w = self.x_embedder.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.x_embedder.proj.bias)
        nn.init.normal_(self.y_embedder.embedding_table.weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        for b in self.blocks:
            nn.init.zeros_(b.adaLN_modulation[-1].weight)
            nn.init.zeros_(b.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].weight)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def unpatchify(self, o, h, w):
        """(R, T, p*p*2C) with outputs ordered (a, bb, c) -> (R, 2C, H, W) (spec 4.9)."""
        p, c = self.patch, self.out_channels
        g_h, g_w = h // p, w // p
        o = o.reshape(o.shape[0], g_h, g_w, p, p, c)
        o = torch.einsum("nhwpqc->nchpwq", o)
        return o.reshape(o.shape[0], c, h, w)

    def forward(self, x, t, y):
        b, f, c, h, w = x.shape
        x = x.reshape(b * f, c, h, w)
        x = self.x_embedder(x) + self.pos_embed  # (B*F, T, D)
        n_tok = x.shape[1]
        cond = self.t_embedder(t) + self.y_embedder(y)  # (B, D), shared by every row of a sample
        skips = []
        pairs = DEPTH // 2
        for k in range(pairs):
            if k >= pairs // 2:
                j = k - pairs // 2
                x = torch.cat([x, skips.pop()], dim=-1)
                x = self.skip_linears[j](self.skip_norms[j](x))
            x = self.blocks[2 * k](x, cond)
            d = x.shape[-1]
            x = x.reshape(b, f, n_tok, d).transpose(1, 2).reshape(b * n_tok, f, d)  # S -> Tm
            if k == 0:
                x = x + self.temp_embed
            x = self.blocks[2 * k + 1](x, cond)
            x = x.reshape(b, n_tok, f, d).transpose(1, 2).reshape(b * f, n_tok, d)  # Tm -> S
            if k < pairs // 2:
                skips.append(x)
        x = self.final_layer(x, cond)
        x = self.unpatchify(x, h, w)
        return x.reshape(b, f, self.out_channels, h, w)
