"""Stage 3: encodes captioned clips with the temporal VAE's encoder and trains the tiny T5 encoder and
the Latte T2V-skip transformer together, with the reference diffusion of the class-to-video demo
(tools/demo-model/diffusion.py: 1000 steps, linear betas, learned sigma, hybrid loss, the MSE weighted
by clamp(1/SNR, 1, 100); latents of standard deviation 2.5), caption dropout 0.1 to the negative
prompt "" (classifier-free guidance, built as the pipeline builds it: text.py) and EMAs of both nets.

Timesteps: half of each batch (--high-noise) is drawn from [600, 1000), where a sample's motion is
decided; drawn uniformly, the model learned the caption's colour but not its motion (README).

Augmentation: a clip played backwards gets its mirrored caption (left <-> right, up <-> down,
grow <-> shrink; bounce stays), which makes the frame order matter (the class-to-video demo's lesson),
unless the mirrored combination is one of the held-out ones.
Every caption is drawn afresh each time: a random wording of the motion, the background named half
the time.

Writes WORK/latents.pt (encoded clips + the measured scaling factor) and WORK/t2v.pt (resumable: both
models, EMAs, optimizer, RNG states, step).

Usage: python train_t2v.py --work WORK [--steps N] [--seed S]
"""

import argparse
import math
import pathlib
import time

import numpy as np
import sentencepiece as spm
import torch
from diffusers import AutoencoderKLTemporalDecoder
from transformers import T5EncoderModel

from captions import HELD_OUT, MIRROR, make_dataset, random_caption
from diffusion import Diffusion
from latte_t2v_skip import LatteT2VSkip
from settings import FRAMES, make_deterministic, t5_config
from text import condition

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--steps", type=int, default=8000)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--clips", type=int, default=2400)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--head-dim", type=int, default=16)
p.add_argument("--seed", type=int, default=3)
p.add_argument("--save-every", type=int, default=250)
p.add_argument("--drop", type=float, default=0.1, help="caption dropout (classifier-free guidance)")
p.add_argument("--latent-std", type=float, default=2.5)
p.add_argument("--weight-cap", type=float, default=100.0)
p.add_argument("--high-noise", type=float, default=0.5,
               help="share of each batch whose timestep is drawn from [600, 1000) instead of [0, 1000): "
                    "where a sample's motion is decided (see mirror_gap)")
args = p.parse_args()
make_deterministic(args.seed)

# ---- latents -------------------------------------------------------------------------------
lat_path = args.work / "latents.pt"
if lat_path.exists():
    lat = torch.load(lat_path, weights_only=True)
else:
    t0 = time.time()
    vae = AutoencoderKLTemporalDecoder.from_pretrained(args.work / "vae").eval()
    clips, attrs = make_dataset(args.clips, seed=2000 + args.seed)
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, len(clips), 8):  # the encoder is per frame: 8 clips = 128 frames per call
            post = vae.encode(torch.from_numpy(clips[i:i + 8]).flatten(0, 1)).latent_dist
            means.append(post.mean.reshape(-1, clips.shape[1], *post.mean.shape[1:]))
            stds.append(post.std.reshape(-1, clips.shape[1], *post.std.shape[1:]))
    mean, std = torch.cat(means), torch.cat(stds)
    scale = float(1.0 / torch.sqrt(mean.var() + std.pow(2).mean()))  # unit variance, like sd-vae's 0.18215
    lat = {"mean": mean, "std": std, "attrs": torch.from_numpy(attrs), "scale": torch.tensor(scale)}
    torch.save(lat, lat_path)
    print(f"encoded {len(clips)} clips in {time.time() - t0:.0f}s; latent {tuple(mean.shape[1:])}, "
          f"scaling factor {scale:.5f}", flush=True)
    del clips
mean, std, attrs = lat["mean"], lat["std"], lat["attrs"]
scale = float(lat["scale"]) * args.latent_std
channels, size = mean.shape[2], mean.shape[3]
# A clip may be played backwards only when its mirrored combination is not held out: reversing a
# (red, circle, right) clip would show the model a red circle moving left, which the evaluation holds out.
reversible = torch.tensor([(int(c), int(s), MIRROR[int(m)]) not in HELD_OUT for c, s, m, _ in attrs.tolist()])
stride = mean.shape[1] // FRAMES

# ---- models --------------------------------------------------------------------------------
sp = spm.SentencePieceProcessor(model_file=str(args.work / "tokenizer" / "spiece.model"))


def make_models():
    t5 = T5EncoderModel(t5_config(sp.get_piece_size()))
    latte = LatteT2VSkip(num_attention_heads=args.heads, attention_head_dim=args.head_dim, in_channels=channels,
                         patch_size=2, sample_size=size, video_length=FRAMES, caption_channels=t5.config.d_model)
    return t5, latte


t5, model = make_models()
ema_t5, ema = make_models()
ema_t5.load_state_dict(t5.state_dict()); ema.load_state_dict(model.state_dict())
for m in (ema_t5, ema):
    m.requires_grad_(False).eval()
params = [p for m in (t5, model) for p in m.parameters() if p.requires_grad]
ema_params = [p for m in (ema_t5, ema) for p in m.parameters()]
model_params = [p for m in (t5, model) for p in m.parameters()]
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
warmup = 200
lr_at = lambda s: args.lr * min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
g = torch.Generator().manual_seed(args.seed)
words = np.random.default_rng(args.seed)  # caption wording
step = 0
ckpt_path = args.work / "t2v.pt"
if ckpt_path.exists():
    ck = torch.load(ckpt_path, weights_only=False)
    t5.load_state_dict(ck["t5"]); model.load_state_dict(ck["model"])
    ema_t5.load_state_dict(ck["ema_t5"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
    g.set_state(ck["rng"]); words.bit_generator.state = ck["words"]; step = ck["step"]
    print(f"resumed at step {step}", flush=True)
print(f"T5: {sum(p.numel() for p in t5.parameters())} parameters; Latte T2V-skip: "
      f"{sum(v.numel() for v in model.state_dict().values())} elements, D={args.heads * args.head_dim}; "
      f"{len(mean)} clips", flush=True)


def save():
    torch.save({"t5": t5.state_dict(), "model": model.state_dict(), "ema_t5": ema_t5.state_dict(),
                "ema": ema.state_dict(), "opt": opt.state_dict(), "rng": g.get_state(),
                "words": words.bit_generator.state, "step": step,
                "args": vars(args) | {"work": str(args.work)}}, ckpt_path)


diffusion = Diffusion()
snr = torch.from_numpy(diffusion.ac / (1 - diffusion.ac)).float()
weights = (1 / snr).clamp(1.0, args.weight_cap)


def mirror_gap(n=64, t=850):
    """How much the caption's motion matters to the EMA at a high-noise step, where a sample's motion is
    decided: the relative increase of the x0 error when each caption names the mirrored motion
    (bounce clips left out). Near 0 the model cannot tell a motion from its reverse (tools/demo-model)."""
    keep = [i for i in range(min(n, len(attrs))) if MIRROR[int(attrs[i, 2])] != int(attrs[i, 2])]
    z = (mean[keep, ::stride] * scale).permute(0, 2, 1, 3, 4)  # (B, C, F, h, w)
    pg = torch.Generator().manual_seed(0)
    tt = torch.full((len(keep),), t)
    x = diffusion.q_sample(z, tt, torch.randn(z.shape, generator=pg))
    def x0_error(mirrored):
        wording = np.random.default_rng(0)  # the same wordings for both
        caps = [random_caption(attrs[i], wording, mirrored=mirrored) for i in keep]
        with torch.no_grad():
            states, mask = condition(ema_t5, sp, caps, [False] * len(caps))
            eps = ema(x, tt, states, mask)[:, :channels]
        return float((diffusion.predict_x0(x, tt, eps) - z).pow(2).mean())

    return x0_error(True) / x0_error(False) - 1


t5.train(); model.train()
start, run_mse, run_vb = time.time(), 0.0, 0.0
while step < args.steps:
    idx = torch.randint(0, len(mean), (args.batch,), generator=g)
    offset = int(torch.randint(0, stride, (1,), generator=g))
    m, sd = mean[idx, offset::stride], std[idx, offset::stride]
    z = (m + sd * torch.randn(m.shape, generator=g)) * scale  # (B, F, C, h, w)
    rev = (torch.rand(args.batch, generator=g) < 0.5) & reversible[idx]
    z[rev] = z[rev].flip(1)
    drop = torch.rand(args.batch, generator=g) < args.drop
    t = torch.randint(0, 1000, (args.batch,), generator=g)
    if args.high_noise > 0:
        high = torch.rand(args.batch, generator=g) < args.high_noise
        t = torch.where(high, torch.randint(600, 1000, (args.batch,), generator=g), t)
    noise = torch.randn(z.shape, generator=g)
    captions = [random_caption(attrs[i], words, mirrored=bool(r)) for i, r in zip(idx.tolist(), rev)]
    z, noise = z.permute(0, 2, 1, 3, 4), noise.permute(0, 2, 1, 3, 4)  # (B, C, F, h, w)
    x_t = diffusion.q_sample(z, t, noise)
    states, mask = condition(t5, sp, captions, drop.tolist())
    mse, vb = diffusion.training_losses(model(x_t, t, states, mask), z, x_t, t, noise, channel_dim=1)
    loss = (weights[t] * mse + vb).mean()
    for group in opt.param_groups:
        group["lr"] = lr_at(step)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    decay = min(0.999, (1 + step) / (10 + step))
    with torch.no_grad():
        torch._foreach_lerp_(ema_params, model_params, 1 - decay)
    step += 1
    run_mse += mse.mean().item(); run_vb += vb.mean().item()
    if step % 50 == 0:
        print(f"t2v step {step:5d} mse {run_mse / 50:.4f} vb {run_vb / 50:.4f} lr {lr_at(step):.2e} "
              f"{time.time() - start:.0f}s (cpu {time.process_time():.0f}s)", flush=True)
        run_mse = run_vb = 0.0
    if step % args.save_every == 0 or step == args.steps:
        save()
        print(f"t2v step {step:5d} EMA mirror-caption gap at t=850 {mirror_gap():.2e}", flush=True)
print(f"t2v done: {step} steps, {time.time() - start:.0f}s this run", flush=True)
