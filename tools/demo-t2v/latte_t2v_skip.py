"""A compact, trainable PyTorch port of the official text-to-video Latte-skip transformer
(`LatteT2V_skip`, Skip-DiT text-to-video/models/latte_t2v_skip.py on diffusers 0.24), written from
shared/spec/text-to-video.md sections 1, 2 and 7, with exactly the official state-dict names,
shapes and order, so that its state dict loads into the official code and into the daemon.

Shapes (legend: B batch, C latent channels, F frames, H x W latent size, p patch, hp = H/p,
wp = W/p, S = hp*wp tokens per frame, D = heads * head_dim hidden size, L caption tokens):
  x (B, C, F, H, W), t (B,) int timesteps 0..999, encoder_hidden_states (B, L, caption_channels),
  optional encoder_attention_mask (B, L), 1 = keep  ->  (B, 2C, F, H, W)
  (learned sigma: channels 0..C-1 are eps, C..2C-1 the variance interpolation value).

Implementation notes (all exact rewrites of the official computation, not approximations):
- The official code repeats the timestep conditioning and the projected caption to one row per
  frame (spatial blocks) or per patch (temporal blocks). Here the stream is kept as
  (B, F, S, D) / (B, S, F, D) and the per-sample vectors broadcast, and cross-attention runs
  all F*S queries of a sample against its L caption keys at once (queries are independent, so
  this equals the per-frame attention of the official code).
- The depth is fixed at 28 (14 long-skip merges): the official forward hard-codes 14/27/28 and
  the daemon rejects any other num_layers.
- Dropout is 0 everywhere in the released config and is not modelled. Classifier-free-guidance
  caption dropout is the training loop's business (the official `y_embedding` buffer is kept
  only so that the state dict round-trips; the forward never reads it).
"""

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_LAYERS = 28  # official skip wiring: layers 14..27 pop the outputs of layers 13..0
MAX_CAPTION_TOKENS = 120  # rows of caption_projection.y_embedding (the T5 max length)


# --------------------------------------------------------------------------------------------
# Fixed (non-learned) tables
# --------------------------------------------------------------------------------------------

def _sincos_1d(dim: int, pos: np.ndarray) -> np.ndarray:
    """diffusers get_1d_sincos_pos_embed_from_grid: (N,) positions -> (N, dim) [sin | cos],
    omega_k = 1 / 10000**(k / (dim/2)), evaluated in float64."""
    omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
    omega = 1.0 / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def pos_table_2d(dim: int, hp: int, wp: int, base_size: int) -> np.ndarray:
    """(hp*wp, dim) spatial table, spec 2 step 3 (diffusers 0.24 get_2d_sincos_pos_embed with
    interpolation_scale 1). The coordinates are float32 divisions exactly as numpy does them on a
    float32 arange: r / fl32(hp / base). For the configured grid (hp == wp == base) they are the
    integers themselves. Channels [0, D/2) encode the column, [D/2, D) the row; token n = r*wp + c."""
    rows = np.arange(hp, dtype=np.float32) / np.float32(hp / base_size)
    cols = np.arange(wp, dtype=np.float32) / np.float32(wp / base_size)
    grid_c, grid_r = np.meshgrid(cols, rows)  # both (hp, wp): [r, c] -> column / row coordinate
    table = np.concatenate([_sincos_1d(dim // 2, grid_c), _sincos_1d(dim // 2, grid_r)], axis=1)
    return table.astype(np.float32)


def temporal_table(dim: int, frames: int) -> np.ndarray:
    """(F, dim) temporal table [sin(f w) | cos(f w)], w_k = 10000^(-k/(D/2)) (spec 2 step 7.4).
    The official buffer has video_length rows; computing it for the actual F gives the same rows."""
    return _sincos_1d(dim, np.arange(frames)).astype(np.float32)


def _timestep_frequencies() -> torch.Tensor:
    """The 128 float32 frequencies of the 256-channel timestep sinusoid, bit-identical to torch
    CPU's `exp(-ln(10000) * arange(128, float32) / 128)` that made the goldens (spec 2 step 4):
    exponent in float32 (fl32(-ln 10000) * k, then / 128), exp in float64 rounded to float32,
    and the two entries where torch's float32 expf is one ulp above the correctly rounded value.
    Using this fixed table instead of torch.exp keeps the model identical across CPU/GPU builds
    (a correctly-rounded exp alone would move the output by ~1e-5 relative, inside tolerance)."""
    k = np.arange(128, dtype=np.float32)
    e = (np.float32(-math.log(10000.0)) * k) / np.float32(128.0)  # float32 arithmetic
    freqs = np.exp(e.astype(np.float64)).astype(np.float32)
    freqs[12] = np.array(0x3ED7E89B, dtype=np.uint32).view(np.float32)
    freqs[106] = np.array(0x39FF4FAD, dtype=np.uint32).view(np.float32)
    return torch.from_numpy(freqs)


def timestep_sinusoid(t: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 256) [cos | sin] features (diffusers Timesteps(256, flip_sin_to_cos=True,
    downscale_freq_shift=0)). Always float32, as in the official code: arg = fl32(t) * freq."""
    args = t.to(torch.float32)[:, None] * freqs.to(t.device)[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


# --------------------------------------------------------------------------------------------
# Building blocks (module/attribute names mirror diffusers 0.24 so the state-dict keys match)
# --------------------------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    """pos_embed.proj: Conv2d(C -> D, kernel = stride = p). The sin-cos table is not stored."""

    def __init__(self, patch: int, in_channels: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x):  # (R, C, H, W) -> (R, S, D), tokens row-major over the (hp, wp) grid
        return self.proj(x).flatten(2).transpose(1, 2)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class CombinedTimestepSizeEmbeddings(nn.Module):
    """Only the timestep part: use_additional_conditions is false unless sample_size == 128."""

    def __init__(self, dim: int):
        super().__init__()
        self.timestep_embedder = TimestepEmbedding(256, dim)


class AdaLayerNormSingle(nn.Module):
    """PixArt adaLN-single. Returns (t6 (B, 6, D), embedded_timestep (B, D))."""

    def __init__(self, dim: int):
        super().__init__()
        self.emb = CombinedTimestepSizeEmbeddings(dim)
        self.linear = nn.Linear(dim, 6 * dim)

    def forward(self, sinusoid):
        emb = self.emb.timestep_embedder(sinusoid)
        return self.linear(F.silu(emb)).unflatten(1, (6, -1)), emb


class CaptionProjection(nn.Module):
    """Linear -> tanh-GELU -> Linear. y_embedding is the official (training-time CFG null
    caption) buffer: persistent, so it is in the state dict, but unused by the forward."""

    def __init__(self, in_dim: int, dim: int, num_tokens: int = MAX_CAPTION_TOKENS):
        super().__init__()
        self.register_buffer("y_embedding", torch.randn(num_tokens, in_dim) / in_dim ** 0.5)
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, e):
        return self.linear_2(F.gelu(self.linear_1(e), approximate="tanh"))


class Attention(nn.Module):
    """diffusers Attention (to_q/to_k/to_v with bias, to_out.0), scaled dot product over heads.
    Heads are merged head-major (channel h*head_dim + d) before to_out.0."""

    def __init__(self, dim: int, heads: int, head_dim: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(dim, inner, bias=True)
        self.to_k = nn.Linear(dim, inner, bias=True)  # cross-attention: the caption is already D wide
        self.to_v = nn.Linear(dim, inner, bias=True)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])

    def forward(self, x, context=None, bias=None):
        """x (R, N, D), context (R, M, D) or None (self-attention), bias broadcastable to
        (R, heads, N, M) and added to the scores before the softmax."""
        context = x if context is None else context
        split = lambda y: y.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)
        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # softmax(q k^T / sqrt(hd) + bias) v
        return self.to_out[0](out.transpose(1, 2).flatten(2))


class GELUProj(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, inner)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    """ff.net = [GELU(proj: D -> 4D, tanh), Dropout, Linear(4D -> D)]."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.ModuleList([GELUProj(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


def _modulate(h, shift, scale):
    return h * (1 + scale) + shift


class SpatialBlock(nn.Module):
    """diffusers 0.24 BasicTransformerBlock with norm_type ada_norm_single (spec 2.1)."""

    def __init__(self, dim: int, heads: int, head_dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.scale_shift_table = nn.Parameter(torch.randn(6, dim) / dim ** 0.5)
        self.attn1 = Attention(dim, heads, head_dim)
        self.attn2 = Attention(dim, heads, head_dim)
        self.ff = FeedForward(dim)

    def forward(self, x, t6, caption, caption_bias):
        """x (B, F, S, D); t6 (B, 6, D); caption (B, L, D); caption_bias (B, 1, 1, L) or None."""
        b, f, s, d = x.shape
        mod = (self.scale_shift_table[None] + t6)[:, :, None, None, :]  # (B, 6, 1, 1, D)
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod.unbind(1)
        h = _modulate(F.layer_norm(x, (d,), eps=self.eps), shift_msa, scale_msa)  # norm1
        x = x + gate_msa * self.attn1(h.reshape(b * f, s, d)).view(b, f, s, d)
        # Cross-attention: the query is the raw stream (no norm, no modulation) and there is no
        # gate (PixArt convention; the block's norm2 is used for the FF below instead).
        x = x + self.attn2(x.reshape(b, f * s, d), caption, caption_bias).view(b, f, s, d)
        h = _modulate(F.layer_norm(x, (d,), eps=self.eps), shift_mlp, scale_mlp)  # norm2
        return x + gate_mlp * self.ff(h)


class TemporalBlock(nn.Module):
    """The custom BasicTransformerBlock_: the spatial block without cross-attention (spec 2.2)."""

    def __init__(self, dim: int, heads: int, head_dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.scale_shift_table = nn.Parameter(torch.randn(6, dim) / dim ** 0.5)
        self.attn1 = Attention(dim, heads, head_dim)
        self.ff = FeedForward(dim)

    def forward(self, x, t6):
        """x (B, S, F, D): attention over the F frames of each patch position."""
        b, s, f, d = x.shape
        mod = (self.scale_shift_table[None] + t6)[:, :, None, None, :]
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod.unbind(1)
        h = _modulate(F.layer_norm(x, (d,), eps=self.eps), shift_msa, scale_msa)  # norm1
        x = x + gate_msa * self.attn1(h.reshape(b * s, f, d)).view(b, s, f, d)
        h = _modulate(F.layer_norm(x, (d,), eps=self.eps), shift_mlp, scale_mlp)  # norm3
        return x + gate_mlp * self.ff(h)


class FP32LayerNorm(nn.LayerNorm):
    """The official FP32_Layernorm of the skip branch: affine LN evaluated in float32 whatever
    the input dtype (matters under fp16/bf16 autocast), then cast back."""

    def forward(self, x):
        out = F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(), self.eps)
        return out.to(x.dtype)


class SkipLinear(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return self.linear(x)


@dataclass
class SkipCache:
    """Skip-Cache state (spec 2.3) for one video: flag N<gap>-<start>-<stop>, e.g. N2-700-50.
    Create a fresh one per video (the official model keeps it on the module across videos).
    The dead `history-mean.json` error rule of the official code is deliberately absent."""
    gap: int = 2
    start: int = 700
    stop: int = 50
    cont: int = 0
    value: Optional[torch.Tensor] = None  # stream before the skip merge of the last layer
    last_kind: str = ""  # "full" or "cached", for logging and the fixture check

    @classmethod
    def from_flag(cls, flag: str) -> "SkipCache":
        gap, start, stop = flag.split("-")
        return cls(gap=int(gap.lstrip("N")), start=int(start), stop=int(stop))

    def is_full(self, tau: int) -> bool:
        return self.cont % self.gap == 0 or self.value is None or tau >= self.start

    def advance(self, tau: int) -> None:
        # The reset happens *after* the step, so the step at the first tau <= stop may be cached.
        self.cont += 1
        if tau <= self.stop:
            self.cont, self.value = 0, None


# --------------------------------------------------------------------------------------------
# The transformer
# --------------------------------------------------------------------------------------------

class LatteT2VSkip(nn.Module):
    def __init__(self, num_attention_heads: int, attention_head_dim: int, in_channels: int = 4,
                 patch_size: int = 2, sample_size: int = 64, video_length: int = 16,
                 caption_channels: int = 4096, num_layers: int = NUM_LAYERS, norm_eps: float = 1e-6):
        super().__init__()
        if num_layers != NUM_LAYERS:
            raise ValueError(f"num_layers must be {NUM_LAYERS}: the official skip wiring (and the daemon) "
                             f"hard-code 28 layers / 14 skip merges, got {num_layers}")
        if sample_size % patch_size:
            raise ValueError("sample_size must be a multiple of patch_size")
        d = num_attention_heads * attention_head_dim
        if d % 4:
            raise ValueError("hidden size (heads * head dim) must be a multiple of 4 (2-D sin-cos table)")
        self.heads, self.head_dim, self.dim = num_attention_heads, attention_head_dim, d
        self.in_channels, self.out_channels = in_channels, 2 * in_channels
        self.patch_size, self.sample_size, self.video_length = patch_size, sample_size, video_length
        self.caption_channels, self.num_layers, self.norm_eps = caption_channels, num_layers, norm_eps
        self.num_skips = num_layers // 2

        # Registration order reproduces the official state-dict order: direct parameters of the
        # root first (scale_shift_table), then submodules in the order the official __init__
        # creates them.
        self.scale_shift_table = nn.Parameter(torch.randn(2, d) / d ** 0.5)
        self.pos_embed = PatchEmbed(patch_size, in_channels, d)
        self.transformer_blocks = nn.ModuleList(
            [SpatialBlock(d, num_attention_heads, attention_head_dim, norm_eps) for _ in range(num_layers)])
        self.temporal_transformer_blocks = nn.ModuleList(
            [TemporalBlock(d, num_attention_heads, attention_head_dim, norm_eps) for _ in range(num_layers)])
        self.skip_norms = nn.ModuleList([FP32LayerNorm(2 * d, eps=1e-6) for _ in range(self.num_skips)])
        self.skip_linears = nn.ModuleList([SkipLinear(d) for _ in range(self.num_skips)])
        self.proj_out = nn.Linear(d, patch_size * patch_size * self.out_channels)
        self.adaln_single = AdaLayerNormSingle(d)
        self.caption_projection = CaptionProjection(caption_channels, d)
        # Non-persistent, like the official pos_embed.pos_embed / temp_pos_embed buffers.
        self.register_buffer("timestep_freqs", _timestep_frequencies(), persistent=False)
        self._tables = {}
        self.initialize_weights()

    # ---- initialisation (PixArt / Latte style; only matters for training from scratch) ----
    def initialize_weights(self):
        def basic(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.apply(basic)
        w = self.pos_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.pos_embed.proj.bias)
        te = self.adaln_single.emb.timestep_embedder
        nn.init.normal_(te.linear_1.weight, std=0.02)
        nn.init.normal_(te.linear_2.weight, std=0.02)
        nn.init.normal_(self.adaln_single.linear.weight, std=0.02)
        nn.init.normal_(self.caption_projection.linear_1.weight, std=0.02)
        nn.init.normal_(self.caption_projection.linear_2.weight, std=0.02)
        # Zero the residual branch outputs so every block starts as the identity (like
        # adaLN-Zero), and the output projection so the first prediction is 0.
        for blk in list(self.transformer_blocks) + list(self.temporal_transformer_blocks):
            nn.init.zeros_(blk.attn1.to_out[0].weight)
            nn.init.zeros_(blk.ff.net[2].weight)
        for blk in self.transformer_blocks:
            nn.init.zeros_(blk.attn2.to_out[0].weight)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    # ---- fixed tables, cached per shape/device ----
    def _table(self, kind: str, *shape, device):
        key = (kind, shape, device)
        if key not in self._tables:
            if kind == "2d":
                arr = pos_table_2d(self.dim, *shape, base_size=self.sample_size // self.patch_size)
            else:
                arr = temporal_table(self.dim, *shape)
            self._tables[key] = torch.from_numpy(arr).to(device)
        return self._tables[key]

    def _skip_merge(self, j: int, x, skip):
        """Long skip j: the merge REPLACES the stream: x = Linear(LN_affine([x, skip]))."""
        return self.skip_linears[j](self.skip_norms[j](torch.cat([x, skip], dim=-1)))

    def _layer(self, i: int, x, t6, caption, caption_bias):
        """Spatial block i then temporal block i. x (B, F, S, D) -> (B, F, S, D)."""
        x = self.transformer_blocks[i](x, t6, caption, caption_bias)
        x = x.transpose(1, 2)  # temporal layout (B, S, F, D)
        if i == 0 and x.shape[2] > 1:  # temporal pos table: once, before temporal block 0
            x = x + self._table("1d", x.shape[2], device=x.device).to(x.dtype)
        x = self.temporal_transformer_blocks[i](x, t6)
        return x.transpose(1, 2)

    def forward(self, x, t, encoder_hidden_states, encoder_attention_mask=None,
                cache: Optional[SkipCache] = None):
        b, c, f, h, w = x.shape
        p = self.patch_size
        hp, wp = h // p, w // p
        # Frame fold (row b*F + f), patch embed, 2-D table (added in float32).
        tokens = self.pos_embed(x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w))
        tokens = tokens + self._table("2d", hp, wp, device=x.device).to(tokens.dtype)
        x = tokens.view(b, f, hp * wp, self.dim)

        # adaLN-single: t6 for the blocks, embedded_timestep for the final layer.
        sinusoid = timestep_sinusoid(t, self.timestep_freqs).to(x.dtype)
        t6, emb = self.adaln_single(sinusoid)
        caption = self.caption_projection(encoder_hidden_states)  # (B, L, D)
        caption_bias = None
        if encoder_attention_mask is not None:  # 1 = keep -> additive (1 - m) * -10000
            m = encoder_attention_mask.to(x.dtype)
            caption_bias = ((1 - m) * -10000.0)[:, None, None, :]  # (B, 1 head, 1 query, L)

        last = self.num_layers - 1
        full = cache is None or cache.is_full(int(t[0]))
        skips = []
        if full:
            for i in range(self.num_layers):
                if i >= self.num_skips:
                    if i == last and cache is not None:
                        cache.value = x.detach()  # stream after layer 26, before the last skip merge
                    x = self._skip_merge(i - self.num_skips, x, skips.pop())
                x = self._layer(i, x, t6, caption, caption_bias)
                if i < self.num_skips:
                    skips.append(x)
        else:
            # Cached step: layer 0, then the last layer fed by [cached stream, layer-0 output].
            s0 = self._layer(0, x, t6, caption, caption_bias)
            x = self._skip_merge(self.num_skips - 1, cache.value, s0)
            x = self._layer(last, x, t6, caption, caption_bias)
        if cache is not None:
            cache.last_kind = "full" if full else "cached"
            cache.advance(int(t[0]))

        # Final layer: modulated by embedded_timestep (pre-SiLU), shift row first, then scale.
        shift, scale = (self.scale_shift_table[None] + emb[:, None]).unbind(1)
        x = _modulate(F.layer_norm(x, (self.dim,), eps=1e-6), shift[:, None, None], scale[:, None, None])
        x = self.proj_out(x)  # (B, F, S, p*p*2C)

        # Unpatchify: each token's outputs are (py, px, c) with c fastest.
        oc = self.out_channels
        x = x.view(b, f, hp, wp, p, p, oc)
        x = torch.einsum("bfhwpqc->bcfhpwq", x)
        return x.reshape(b, oc, f, h, w)

    # ---- export helpers ----
    def diffusers_config(self) -> dict:
        """transformer/config.json for this model, same keys and format as the official
        (diffusers 0.24 LatteT2V) config the daemon and the official loader read."""
        return {
            "_class_name": "LatteT2V",
            "_diffusers_version": "0.24.0",
            "activation_fn": "gelu-approximate",
            "attention_bias": True,
            "attention_head_dim": self.head_dim,
            "attention_type": "default",
            "caption_channels": self.caption_channels,
            "cross_attention_dim": self.dim,
            "double_self_attention": False,
            "dropout": 0.0,
            "in_channels": self.in_channels,
            "norm_elementwise_affine": False,
            "norm_eps": self.norm_eps,
            "norm_num_groups": 32,
            "norm_type": "ada_norm_single",
            "num_attention_heads": self.heads,
            "num_embeds_ada_norm": 1000,
            "num_layers": self.num_layers,
            "num_vector_embeds": None,
            "only_cross_attention": False,
            "out_channels": self.out_channels,
            "patch_size": self.patch_size,
            "sample_size": self.sample_size,
            "upcast_attention": False,
            "use_linear_projection": False,
            "video_length": self.video_length,
        }


def split_state_dict(sd: dict):
    """-> (base, full): `base` is the state dict without the skip_* tensors (what the base
    transformer/diffusion_pytorch_model.safetensors holds), `full` all tensors (the "ema" /
    "model" entries of Latte-skip.pt). Tensors are detached, contiguous CPU float32 copies."""
    full = {k: v.detach().to("cpu", torch.float32).contiguous().clone() for k, v in sd.items()}
    base = {k: v for k, v in full.items() if not k.startswith(("skip_norms.", "skip_linears."))}
    return base, full


if __name__ == "__main__":
    # Smoke test + timing of one training step's forward+backward on a tiny config:
    #   python latte_t2v_skip.py [threads]
    import sys
    import time

    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    torch.manual_seed(0)
    net = LatteT2VSkip(num_attention_heads=4, attention_head_dim=16, sample_size=8, video_length=8,
                       caption_channels=64)
    print(f"params {sum(p.numel() for p in net.parameters()):,}")
    bsz, seq = 16, 16
    x = torch.randn(bsz, 4, 8, 8, 8)
    t = torch.randint(0, 1000, (bsz,))
    e = torch.randn(bsz, seq, 64)
    m = (torch.rand(bsz, seq) > 0.3).long()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    times = []
    for it in range(4):
        t0 = time.perf_counter()
        loss = (net(x, t, e, m)[:, :4] - x).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t1 = time.perf_counter()
        opt.step()
        times.append((t1 - t0, time.perf_counter() - t1))
        print(f"iter {it}: loss {loss.item():.4f}  fwd+bwd {times[-1][0] * 1e3:.0f} ms  adamw {times[-1][1] * 1e3:.0f} ms")
