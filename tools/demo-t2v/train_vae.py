"""Stage 2: trains the temporal VAE (diffusers AutoencoderKLTemporalDecoder: the 2-D SD encoder and
SVD's spatio-temporal decoder) in two phases: first on single frames of many clips (num_frames = 1;
--batch frames per step, so every step sees many colours, shapes and positions), then, for the last
--clip-steps steps, on 8-frame clips (every second frame of a 16-frame clip, as the transformer sees
them; --batch / 8 clips per step) decoded with num_frames = 8, so the temporal layers learn the
frame axis. (Clips alone from the start learn slowly: two clips per step show two colours, and after
600 steps every reconstruction was a centred blob.) The decoder's temporal convolutions (kernel 3 along
time) start with their outer taps zero: single frames never train those taps (they only ever see the
zero padding), and random outer taps made the switch to whole clips jump from a reconstruction loss of
0.08 to 2.2 and end at 16 dB. With zero outer taps an 8-frame decode starts out equal to 8 single-frame
decodes, and the clip phase only has to learn what the frame axis adds.

Loss: L1 + MSE on pixels (pixels of the shape weighted up, so small shapes stay sharp) plus a small KL
term, as the class-to-video demo VAE. Writes WORK/vae (save_pretrained; export.py sets the measured
scaling factor) and WORK/vae_recon.png; WORK/vae_train.pt every --save-every steps (model, optimizer,
schedule, RNG, step), from which an interrupted run resumes bit for bit.

Usage: python train_vae.py --work WORK [--steps N] [--seed S]
"""

import argparse
import math
import pathlib
import time

import torch
from diffusers import AutoencoderKLTemporalDecoder

from captions import make_dataset, to_uint8
from settings import FRAMES, VAE_CONFIG, make_deterministic, save_grid

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--clip-steps", type=int, default=300, help="the last steps train on whole clips")
p.add_argument("--batch", type=int, default=16, help="frames per step")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--clips", type=int, default=600)
p.add_argument("--kl", type=float, default=1e-6)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--save-every", type=int, default=200)
args = p.parse_args()
make_deterministic(args.seed)
args.work.mkdir(parents=True, exist_ok=True)

clips = torch.from_numpy(make_dataset(args.clips, seed=1000 + args.seed)[0])  # (N, 16, 3, H, W)
stride = clips.shape[1] // FRAMES
vae = AutoencoderKLTemporalDecoder(**VAE_CONFIG)
with torch.no_grad():
    for conv in vae.decoder.modules():
        if isinstance(conv, torch.nn.Conv3d):  # weight (out, in, 3, 1, 1): taps for t-1, t, t+1
            conv.weight[:, :, 0].zero_(); conv.weight[:, :, 2].zero_()
print(f"temporal VAE: {sum(p.numel() for p in vae.parameters())} parameters; {len(clips)} training clips", flush=True)
opt = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=0.0)
warmup = max(1, args.steps // 20)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
g = torch.Generator().manual_seed(args.seed)


def reconstruct(x, sample=True):
    """x (B, F, 3, H, W) -> reconstruction and posterior; frames decoded per clip (num_frames = F)."""
    post = vae.encode(x.flatten(0, 1)).latent_dist
    z = post.mean + post.std * torch.randn(post.mean.shape, generator=g) if sample else post.mean
    return vae.decode(z, num_frames=x.shape[1]).sample.reshape(x.shape), post


first = 0
resume_path = args.work / "vae_train.pt"
if resume_path.exists():
    ck = torch.load(resume_path, weights_only=False)
    vae.load_state_dict(ck["vae"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
    g.set_state(ck["rng"]); first = ck["step"]
    print(f"resumed at step {first}", flush=True)
start = time.time()
for step in range(first, args.steps):
    if step < args.steps - args.clip_steps:  # single frames: (batch, 1, 3, H, W)
        idx = torch.randint(0, len(clips), (args.batch,), generator=g)
        frame = torch.randint(0, clips.shape[1], (args.batch,), generator=g)
        x = clips[idx, frame][:, None]
    else:  # clips: (batch / FRAMES, FRAMES, 3, H, W)
        idx = torch.randint(0, len(clips), (max(1, args.batch // FRAMES),), generator=g)
        offset = int(torch.randint(0, stride, (1,), generator=g))
        x = clips[idx, offset::stride]
    rec, post = reconstruct(x)
    # weight 1 on the background, 5 where the pixel differs from the frame's median colour (the shape)
    med = x.flatten(3).median(dim=3).values[..., None, None]
    weight = 1 + 4 * ((x - med).abs().amax(dim=2, keepdim=True) > 0.1).float()
    err = rec - x
    loss_rec = (weight * (err.abs() + err.pow(2))).mean()
    loss_kl = post.kl().mean()
    loss = loss_rec + args.kl * loss_kl
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
    opt.step()
    sched.step()
    if (step + 1) % args.save_every == 0:
        torch.save({"vae": vae.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "rng": g.get_state(), "step": step + 1}, resume_path)
    if step % 50 == 0 or step == args.steps - 1:
        print(f"vae step {step:5d} rec {loss_rec.item():.4f} kl {loss_kl.item():.1f} "
              f"{time.time() - start:.0f}s (cpu {time.process_time():.0f}s)", flush=True)
vae.eval()
vae.save_pretrained(args.work / "vae")
with torch.no_grad():
    x = clips[(torch.arange(4) * 37) % len(clips), ::stride]
    rec = reconstruct(x, sample=False)[0].clamp(-1, 1)
    psnr = 10 * torch.log10(4 / (rec - x).pow(2).mean()).item()
print(f"vae done in {time.time() - start:.0f}s; reconstruction PSNR {psnr:.2f} dB on 4 clips", flush=True)
save_grid(args.work / "vae_recon.png", [to_uint8(v.numpy()) for pair in zip(x, rec) for v in pair])
