"""Objective check of a demo model: samples every class for several seeds, decodes, tracks the shape on
the frames and names the motion it sees (the same measure as skipdit's DemoModelTests).

  python evaluate.py --work WORK [--seeds 8] [--steps 12] [--guidance 7]   # samples WORK/latte.pt's EMA
  python evaluate.py --npy DIR            # frames `skipdit bench cache --frames DIR` wrote

The track: per frame, the background is the median colour of the border pixels, the shape is the
largest 8-connected region that differs from it by more than 0.2 (of 1) in some channel; its centroid
and area give the motion. Classification: a rise of at least 6 px after a fall of at least 6 px is
`bounce`; else a centroid travel of at least 10 px names the direction; else an area ratio of at least
2 (or at most 1/2) between the first and last frame is `grow` (`shrink`); else `none`.
"""

import argparse
import pathlib

import numpy as np

from data import CLASSES, MIRROR

THRESHOLD = 0.2


def largest_component(mask):
    """The largest 8-connected True region of a 2-D mask."""
    h, w = mask.shape
    label = np.zeros((h, w), dtype=np.int32)
    best, best_size, current = 0, 0, 0
    for sy, sx in zip(*np.nonzero(mask)):
        if label[sy, sx]:
            continue
        current += 1
        stack, size = [(sy, sx)], 0
        label[sy, sx] = current
        while stack:
            y, x = stack.pop()
            size += 1
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not label[ny, nx]:
                        label[ny, nx] = current
                        stack.append((ny, nx))
        if size > best_size:
            best, best_size = current, size
    return label == best if best else np.zeros_like(mask)


def track(frames):
    """frames (F, H, W, 3) uint8 -> (F, 3) array of centroid x, centroid y, area (NaN when no shape)."""
    out = []
    for f in frames.astype(np.float64) / 255.0:
        border = np.concatenate([f[0], f[-1], f[:, 0], f[:, -1]])
        bg = np.median(border, axis=0)
        shape = largest_component(np.abs(f - bg).max(axis=2) > THRESHOLD)
        area = shape.sum()
        if area == 0:
            out.append((np.nan, np.nan, 0.0))
            continue
        ys, xs = np.nonzero(shape)
        out.append((xs.mean() + 0.5, ys.mean() + 0.5, float(area)))
    return np.array(out)


def classify(tr):
    x, y, a = tr[:, 0], tr[:, 1], tr[:, 2]
    if np.isnan(x).any() or (a == 0).any():
        return "none"
    low = np.argmax(y)  # y grows downwards: the floor is the largest y
    if y[low] - y[: low + 1].min() >= 6 and y[low] - y[low:].min() >= 6 and 0 < low < len(y) - 1:
        return "bounce"
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    if max(abs(dx), abs(dy)) >= 10:
        if abs(dx) >= abs(dy):
            return "right" if dx > 0 else "left"
        return "down" if dy > 0 else "up"
    ratio = a[-1] / a[0]
    if ratio >= 2:
        return "grow"
    if ratio <= 0.5:
        return "shrink"
    return "none"


def mirror_gap(model, z, y, diffusion, t=850, seed=0):
    """How much the class's direction matters to the model at a high-noise step, where a sample's
    motion is decided: the relative increase of the x0 prediction's error on noisy clips z
    (B, F, C, H, W) of labels y when each label is replaced by its mirror (left <-> right, up <-> down,
    grow <-> shrink; bounce clips are left out). Near 0 the model ignores the frame order
    (temp_embed) and cannot tell a motion from its reverse: run 5 (4,000 steps) 1.2e-3, run 6 (shipped) 2.0."""
    import torch

    mirror = torch.tensor(MIRROR)
    keep = y != mirror[y]
    z, y = z[keep], y[keep]
    g = torch.Generator().manual_seed(seed)
    tt = torch.full((len(z),), t)
    x = diffusion.q_sample(z, tt, torch.randn(z.shape, generator=g))
    c = z.shape[2]
    with torch.no_grad():
        def x0_error(labels):
            eps = model(x, tt, labels)[:, :, :c]
            return float((diffusion.predict_x0(x, tt, eps) - z).pow(2).mean())
        return x0_error(mirror[y]) / x0_error(y) - 1


def report(results):
    """results: list of (class name, seed, seen) -> prints a per-class line, returns the accuracy."""
    right = 0
    for c in CLASSES:
        seen = [s for name, _, s in results if name == c]
        ok = sum(s == c for s in seen)
        right += ok
        print(f"  {c:7s} {ok}/{len(seen)}  {' '.join(seen)}")
    accuracy = right / max(1, len(results))
    print(f"accuracy {accuracy:.2f} ({right}/{len(results)})", flush=True)
    return accuracy


def sample_model(args):
    import torch
    from diffusers import AutoencoderKL

    from common import latent_scale, make_deterministic
    from diffusion import Diffusion
    from latte_skip import LatteSkip
    from data import to_uint8

    make_deterministic(0)
    ck = torch.load(args.work / "latte.pt", weights_only=False)
    a = ck["args"]
    lat = torch.load(args.work / "latents.pt", weights_only=True)
    scale, frames = latent_scale(lat, a), a["frames"]
    ema = LatteSkip(latent_size=8, patch_size=a["patch"], in_channels=4, hidden_size=a["hidden"], num_heads=a["heads"],
                    num_frames=frames, num_classes=len(CLASSES))
    ema.load_state_dict(ck["ema"])
    ema.eval()
    vae = AutoencoderKL.from_pretrained(args.work / "vae").eval()
    diffusion = Diffusion()
    n = len(CLASSES)
    results, rows = [], []
    for seed in range(args.seeds):
        g = torch.Generator().manual_seed(1000 + seed)
        y = torch.arange(n)
        x = diffusion.ddim_sample(ema, (n, frames, 4, 8, 8), y, n, args.guidance, args.steps, g)
        with torch.no_grad():
            video = vae.decode(x.flatten(0, 1) / scale).sample.clamp(-1, 1).reshape(n, frames, 3, 64, 64)
        for c in range(n):
            pixels = to_uint8(video[c].numpy())
            results.append((CLASSES[c], seed, classify(track(pixels))))
            rows.append(pixels)
    if args.grid:
        from common import save_grid

        save_grid(args.grid, rows)
    print(f"step {ck['step']}: DDIM {args.steps}, guidance {args.guidance}, {args.seeds} seeds")
    return report(results)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", type=pathlib.Path)
    p.add_argument("--npy", type=pathlib.Path, help="a folder of CLASS-SEED[-Nn].npy (F, H, W, 3) uint8 videos")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--guidance", type=float, default=7.0)
    p.add_argument("--grid", type=pathlib.Path, help="also write the sampled frames as a PNG (a row per video)")
    args = p.parse_args()
    if args.npy:
        # skipdit bench cache --frames DIR writes CLASS-SEED-N<n>.npy (CLASS an index): one report per N
        groups = {}
        for path in sorted(args.npy.glob("*.npy")):
            label, seed, n = (path.stem.split("-") + ["N1"])[:3]
            name = CLASSES[int(label)] if label.isdigit() else label
            groups.setdefault(n, []).append((name, seed, classify(track(np.load(path)))))
        for n, results in sorted(groups.items()):
            print(f"{args.npy} {n}:")
            report(results)
    else:
        sample_model(args)


if __name__ == "__main__":
    main()
