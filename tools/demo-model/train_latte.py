"""Stage 2: encodes procedural clips with the trained VAE and trains the class-conditional Latte-skip
in that latent space with the reference diffusion (1000 steps, linear betas, learned sigma, hybrid
loss; the MSE term weighted by clamp(1/SNR, 1, 100)) on latents of standard deviation 2.5, label
dropout 0.1 to the null class, and an EMA of the weights.

Augmentation: playing a clip backwards is exact in latent space (the VAE is per-frame) and turns
left <-> right, up <-> down, grow <-> shrink and bounce into bounce, so half of each batch is reversed.

Writes WORK/latents.pt (encoded clips + the measured scaling factor), WORK/latte.pt (resumable:
model, EMA, optimizer, RNG state, step) and WORK/latte_preview.png (one EMA sample per class).

Usage: python train_latte.py --work WORK [--steps N] [--seed S]
"""

import argparse
import math
import pathlib
import time

import torch
from diffusers import AutoencoderKL

from common import latent_scale, make_deterministic, save_grid
from data import CLASSES, MIRROR, make_dataset, to_uint8
from diffusion import Diffusion
from evaluate import mirror_gap
from latte_skip import LatteSkip

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--steps", type=int, default=10000)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--clips", type=int, default=3000)
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--patch", type=int, default=2)
p.add_argument("--frames", type=int, default=8, help="frames per training clip: every (16 / FRAMES)-th frame of a clip")
p.add_argument("--seed", type=int, default=2)
p.add_argument("--save-every", type=int, default=250)
p.add_argument("--latent-std", type=float, default=2.5,
               help="standard deviation of the latents the transformer sees (the VAE's scaling_factor follows)")
p.add_argument("--weight-cap", type=float, default=100.0,
               help="the MSE term of a sample at timestep t is weighted by clamp(1 / SNR(t), 1, CAP)")
args = p.parse_args()
make_deterministic(args.seed)

# ---- latents -------------------------------------------------------------------------------
lat_path = args.work / "latents.pt"
if lat_path.exists():
    lat = torch.load(lat_path, weights_only=True)
else:
    t0 = time.time()
    vae = AutoencoderKL.from_pretrained(args.work / "vae").eval()
    clips, labels = make_dataset(args.clips, seed=2000 + args.seed)
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, len(clips), 8):  # 8 clips = 128 frames per encoder call
            x = torch.from_numpy(clips[i:i + 8]).flatten(0, 1)
            post = vae.encode(x).latent_dist
            means.append(post.mean.reshape(-1, 16, *post.mean.shape[1:]))
            stds.append(post.std.reshape(-1, 16, *post.std.shape[1:]))
    mean, std = torch.cat(means), torch.cat(stds)
    # scaling factor: latents * scale have unit variance (sd-vae's 0.18215 plays the same role)
    scale = float(1.0 / torch.sqrt(mean.var() + std.pow(2).mean()))
    lat = {"mean": mean, "std": std, "labels": torch.from_numpy(labels), "scale": torch.tensor(scale)}
    torch.save(lat, lat_path)
    print(f"encoded {len(clips)} clips in {time.time() - t0:.0f}s; latent {tuple(mean.shape[1:])}, "
          f"scaling factor {scale:.5f}", flush=True)
    del clips
mean, std, labels = lat["mean"], lat["std"], lat["labels"]
scale = latent_scale(lat, vars(args))
num_classes, channels, size = len(CLASSES), mean.shape[2], mean.shape[3]
frames, stride = args.frames, mean.shape[1] // args.frames
assert frames * stride == mean.shape[1], f"--frames must divide the clip length {mean.shape[1]}"

# ---- model ---------------------------------------------------------------------------------
model = LatteSkip(latent_size=size, patch_size=args.patch, in_channels=channels, hidden_size=args.hidden, num_heads=args.heads,
                  num_frames=frames, num_classes=num_classes)
ema = LatteSkip(latent_size=size, patch_size=args.patch, in_channels=channels, hidden_size=args.hidden, num_heads=args.heads,
                num_frames=frames, num_classes=num_classes)
ema.load_state_dict(model.state_dict())
ema.requires_grad_(False)
params = [p for p in model.parameters() if p.requires_grad]
ema_params, model_params = list(ema.parameters()), list(model.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
warmup = 200
lr_at = lambda s: args.lr * min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
g = torch.Generator().manual_seed(args.seed)
step = 0
ckpt_path = args.work / "latte.pt"
if ckpt_path.exists():
    ck = torch.load(ckpt_path, weights_only=False)
    model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
    g.set_state(ck["rng"]); step = ck["step"]
    print(f"resumed at step {step}", flush=True)
print(f"Latte-skip: {sum(p.numel() for p in model.state_dict().values())} elements, "
      f"D={args.hidden} heads={args.heads}, {len(mean)} clips", flush=True)


def save():
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                "rng": g.get_state(), "step": step, "args": vars(args) | {"work": str(args.work)}},
               ckpt_path)


diffusion = Diffusion()
# Noise-prediction MSE alone barely trains the high-noise steps, where the sampler decides where the
# shape goes in each frame: there eps-MSE = SNR * x0-MSE with SNR(700) = 0.007, and an unweighted
# model learns to ignore frame order and the direction of its class (README, "What made it work").
# Weighting by 1 / SNR turns the MSE into the x0 error for SNR < 1, capped at CAP.
snr = torch.from_numpy(diffusion.ac / (1 - diffusion.ac)).float()
weights = (1 / snr).clamp(1.0, args.weight_cap)
mirrored = torch.tensor(MIRROR)  # the label of each class played backwards
model.train()
start, run_mse, run_vb = time.time(), 0.0, 0.0
while step < args.steps:
    idx = torch.randint(0, len(mean), (args.batch,), generator=g)
    offset = int(torch.randint(0, stride, (1,), generator=g))  # which of the clip's frames: offset::stride
    m, sd = mean[idx, offset::stride], std[idx, offset::stride]
    z = (m + sd * torch.randn(m.shape, generator=g)) * scale  # (B, F, C, H, W)
    y = labels[idx].clone()
    rev = torch.rand(args.batch, generator=g) < 0.5
    z[rev] = z[rev].flip(1)
    y[rev] = mirrored[y[rev]]
    y[torch.rand(args.batch, generator=g) < 0.1] = num_classes  # label dropout for CFG
    t = torch.randint(0, 1000, (args.batch,), generator=g)
    noise = torch.randn(z.shape, generator=g)
    x_t = diffusion.q_sample(z, t, noise)
    mse, vb = diffusion.training_losses(model(x_t, t, y), z, x_t, t, noise)
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
        print(f"latte step {step:5d} mse {run_mse / 50:.4f} vb {run_vb / 50:.4f} lr {lr_at(step):.2e} "
              f"{time.time() - start:.0f}s (cpu {time.process_time():.0f}s)", flush=True)
        run_mse = run_vb = 0.0
    if step % args.save_every == 0 or step == args.steps:
        save()
        probe = (mean[:64, ::stride] * scale, labels[:64])
        print(f"latte step {step:5d} EMA mirror-label gap at t=850 {mirror_gap(ema, *probe, diffusion):.2e}",
              flush=True)

# ---- preview: one EMA sample per class (DDIM 20, guidance 4) --------------------------------
ema.eval()
vae = AutoencoderKL.from_pretrained(args.work / "vae").eval()
pg = torch.Generator().manual_seed(0)
y = torch.arange(num_classes)
x = diffusion.ddim_sample(ema, (num_classes, frames, channels, size, size), y, num_classes, 4.0, 20, pg)
with torch.no_grad():
    video = vae.decode(x.flatten(0, 1) / scale).sample.clamp(-1, 1).reshape(num_classes, frames, 3, 64, 64)
save_grid(args.work / "latte_preview.png", [to_uint8(v[::2].numpy()) for v in video])
print(f"latte done: {step} steps in {time.time() - start:.0f}s this run; preview {args.work / 'latte_preview.png'}",
      flush=True)
