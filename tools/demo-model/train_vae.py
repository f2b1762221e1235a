"""Stage 1: trains the demo AutoencoderKL on single frames of the procedural clips.

Loss: L1 + MSE on pixels (pixels of the shape weighted up, so small shapes stay sharp) plus a small
KL term. AdamW, linear warm-up then cosine decay. Writes WORK/vae (diffusers save_pretrained, the
scaling factor still the diffusers default; export.py sets the measured one).

Usage: python train_vae.py --work WORK [--steps N] [--seed S]
"""

import argparse
import math
import pathlib
import time

import numpy as np
import torch
from diffusers import AutoencoderKL

from common import VAE_CONFIG, make_deterministic, save_grid
from data import make_dataset, to_uint8

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--clips", type=int, default=1000)
p.add_argument("--kl", type=float, default=1e-6)
p.add_argument("--seed", type=int, default=1)
args = p.parse_args()
make_deterministic(args.seed)
args.work.mkdir(parents=True, exist_ok=True)

clips, _ = make_dataset(args.clips, seed=1000 + args.seed)  # (N, F, 3, H, W)
frames = torch.from_numpy(clips.reshape(-1, *clips.shape[2:]))
del clips
vae = AutoencoderKL(**VAE_CONFIG)
print(f"VAE: {sum(p.numel() for p in vae.parameters())} parameters; {len(frames)} training frames", flush=True)
opt = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=0.0)
warmup = max(1, args.steps // 20)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
g = torch.Generator().manual_seed(args.seed)
start = time.time()
for step in range(args.steps):
    x = frames[torch.randint(0, len(frames), (args.batch,), generator=g)]
    post = vae.encode(x).latent_dist
    z = post.mean + post.std * torch.randn(post.mean.shape, generator=g)
    rec = vae.decode(z).sample
    # weight 1 on the background, 5 where the pixel differs from the frame's median colour (the shape)
    med = x.flatten(2).median(dim=2).values[:, :, None, None]
    weight = 1 + 4 * ((x - med).abs().amax(dim=1, keepdim=True) > 0.1).float()
    err = rec - x
    loss_rec = (weight * (err.abs() + err.pow(2))).mean()
    loss_kl = post.kl().mean()
    loss = loss_rec + args.kl * loss_kl
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
    opt.step()
    sched.step()
    if step % 50 == 0 or step == args.steps - 1:
        print(f"vae step {step:5d} rec {loss_rec.item():.4f} kl {loss_kl.item():.1f} "
              f"{time.time() - start:.0f}s (cpu {time.process_time():.0f}s)", flush=True)
vae.eval()
vae.save_pretrained(args.work / "vae")
with torch.no_grad():
    x = frames[torch.arange(0, 16 * 8, 16)[:8] * 7]
    rec = vae.decode(vae.encode(x).latent_dist.mean).sample
    psnr = 10 * torch.log10(4 / (rec.clamp(-1, 1) - x).pow(2).mean()).item()
print(f"vae done in {time.time() - start:.0f}s; reconstruction PSNR {psnr:.2f} dB on 8 frames", flush=True)
save_grid(args.work / "vae_recon.png", [to_uint8(x.numpy()), to_uint8(rec.clamp(-1, 1).numpy())])
