"""Independent check of `skipdit bench cache`'s PSNR/SSIM: recomputes them with numpy from the frames
the benchmark wrote with --frames DIR (files <class>-<seed>-N<n>.npy, (F, H, W, 3) uint8) and prints
the per-N means, to compare with the benchmark's table.

SSIM here is a direct 2-D Gaussian-window implementation (11x11, sigma 1.5, K1 0.01, K2 0.03, L 255,
valid window positions, per channel, mean over channels and frames); PSNR is over all samples.
Usage: python check_bench_quality.py DIR"""

import collections
import pathlib
import sys

import numpy as np


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def ssim_plane(x, y):
    r = 5
    g1 = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * 1.5 ** 2))
    w = np.outer(g1, g1)
    w /= w.sum()
    h, wd = x.shape
    def filt(img):
        out = np.zeros((h - 2 * r, wd - 2 * r))
        for i in range(2 * r + 1):
            for j in range(2 * r + 1):
                out += w[i, j] * img[i:i + h - 2 * r, j:j + wd - 2 * r]
        return out
    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2)))


def ssim(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.mean([ssim_plane(a[f, :, :, c], b[f, :, :, c]) for f in range(a.shape[0]) for c in range(3)]))


root = pathlib.Path(sys.argv[1])
per_n = collections.defaultdict(list)
for path in sorted(root.glob("*-N*.npy")):
    stem, n = path.stem.rsplit("-N", 1)
    if n == "1":
        continue
    ref, got = np.load(root / f"{stem}-N1.npy"), np.load(path)
    per_n[int(n)].append((psnr(got, ref), ssim(got, ref)))
for n in sorted(per_n):
    p, s = np.array(per_n[n]).T
    print(f"N={n}: PSNR mean {p.mean():.2f} min {p.min():.2f}  SSIM mean {s.mean():.4f} min {s.min():.4f}  ({len(p)} videos)")
