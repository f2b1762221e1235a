"""Procedural training clips for the demo model: one bright shape (circle, square, triangle or diamond) on a
flat dark background, moving in one of the CLASSES ways over FRAMES frames of SIZE x SIZE
pixels. Colours (from small palettes), sizes, positions, speeds and backgrounds vary; everything follows from one
numpy Generator, so a seed gives the same clips on every machine.

Clips are float32 (N, F, 3, H, W) in [-1, 1] (the VAE's pixel range), labels int64 (N,).
"""

import numpy as np

FRAMES = 16
SIZE = 64
CLASSES = ["left", "right", "up", "down", "grow", "shrink", "bounce"]
MIRROR = [1, 0, 3, 2, 5, 4, 6]  # the class of a clip played backwards
SHAPES = ["circle", "square", "triangle", "diamond"]
# Paths run through the middle of the frame, give or take JITTER pixels: a position spread over the
# whole frame smears the class-conditional mean frame out as well (see the palette below).
JITTER = 5.0


# A small palette (less for a tiny model to learn than continuous colours): bright, saturated shape
# colours on dark backgrounds. Keeping every shape brighter than its background matters: the
# class-conditional mean of a frame must show where the shape is, or the high-noise steps (where a
# sample's motion is decided) cannot learn it. With light and dark backgrounds and shapes mixed, the
# mean frame is nearly flat and the best order-blind prediction is within 1.3% of the best
# order-aware one, so the trained model ignored frame order and confused left with right.
FOREGROUNDS = [(1.00, 0.45, 0.35), (1.00, 0.75, 0.25), (1.00, 0.95, 0.40), (0.45, 1.00, 0.50),
               (0.45, 0.80, 1.00), (1.00, 0.55, 1.00), (0.95, 0.95, 0.95)]
BACKGROUNDS = [(0.06, 0.06, 0.08), (0.05, 0.07, 0.16), (0.05, 0.12, 0.07), (0.15, 0.05, 0.05),
               (0.10, 0.05, 0.13), (0.04, 0.11, 0.12)]


def _colours(rng):
    """A background and a shape colour from the palettes that stand out from each other."""
    while True:
        bg = np.array(BACKGROUNDS[rng.integers(len(BACKGROUNDS))])
        fg = np.array(FOREGROUNDS[rng.integers(len(FOREGROUNDS))])
        if np.linalg.norm(fg - bg) > 0.55:
            return bg, fg


def _coverage(shape, xx, yy, cx, cy, r):
    """Anti-aliased coverage (0..1) of a shape of 'radius' r centred at (cx, cy)."""
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        d = np.sqrt(dx * dx + dy * dy) - r
    elif shape == "square":
        d = np.maximum(np.abs(dx), np.abs(dy)) - 0.85 * r
    elif shape == "diamond":
        d = (np.abs(dx) + np.abs(dy) - 1.2 * r) / np.sqrt(2.0)
    else:  # upward equilateral triangle with circumradius 1.2 r
        rr = 1.2 * r
        ds = []
        for a in (90.0, 210.0, 330.0):  # outward normals of the three edges (y grows downwards)
            th = np.deg2rad(a + 180.0)
            nx, ny = np.cos(th), -np.sin(th)
            ds.append(dx * nx + dy * ny - rr / 2)
        d = np.maximum(np.maximum(ds[0], ds[1]), ds[2])
    return np.clip(0.5 - d, 0.0, 1.0)


def _trajectory(label, rng):
    """Per-frame centre (x, y) and radius for a class."""
    t = np.linspace(0.0, 1.0, FRAMES)
    name = CLASSES[label]
    if name in ("left", "right", "up", "down"):
        # edge to edge: the frame index alone says where the shape is along its path, which gives the
        # model a strong reason to use the frame position (without it, left and right look alike)
        r = rng.uniform(8.0, 11.0)
        start, end = r + 2 + rng.uniform(0.0, 2.0), SIZE - r - 2 - rng.uniform(0.0, 2.0)
        along = start + (end - start) * t
        if name in ("left", "up"):
            along = along[::-1]
        across = np.full(FRAMES, SIZE / 2 + rng.uniform(-JITTER, JITTER))
        xs, ys = (along, across) if name in ("left", "right") else (across, along)
        return xs, ys, np.full(FRAMES, r)
    if name in ("grow", "shrink"):
        r0, r1 = rng.uniform(3.0, 5.0), rng.uniform(14.0, 19.0)
        rs = r0 + (r1 - r0) * t
        if name == "shrink":
            rs = rs[::-1]
        cx, cy = SIZE / 2 + rng.uniform(-JITTER, JITTER, size=2)
        return np.full(FRAMES, cx), np.full(FRAMES, cy), rs
    # bounce: falls onto a floor near mid-clip and rises back up (about one bounce per clip)
    r = rng.uniform(7.0, 10.0)
    floor = rng.uniform(SIZE - r - 8, SIZE - r - 2)
    height = rng.uniform(24.0, floor - r - 4)
    bounces = rng.uniform(0.85, 1.15)
    phase = rng.uniform(-0.05, 0.05)
    ys = floor - height * np.abs(np.cos(np.pi * (bounces * t + phase)))
    cx = SIZE / 2 + rng.uniform(-JITTER, JITTER)
    return np.full(FRAMES, cx), ys, np.full(FRAMES, r)


def make_clip(label, rng):
    """One clip (F, 3, H, W) in [-1, 1]."""
    bg, fg = _colours(rng)
    shape = SHAPES[rng.integers(len(SHAPES))]
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
    background = np.broadcast_to(bg[:, None, None], (3, SIZE, SIZE))
    xs, ys, rs = _trajectory(label, rng)
    frames = np.empty((FRAMES, 3, SIZE, SIZE), dtype=np.float32)
    for f in range(FRAMES):
        a = _coverage(shape, xx, yy, xs[f], ys[f], rs[f])[None]
        frames[f] = (background * (1 - a) + fg[:, None, None] * a) * 2 - 1
    return frames


def make_dataset(n, seed):
    """n clips with balanced labels (label i % len(CLASSES), shuffled) from one seed."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    clips = np.empty((n, FRAMES, 3, SIZE, SIZE), dtype=np.float32)
    for i, y in enumerate(labels):
        clips[i] = make_clip(int(y), rng)
    return clips, labels


def to_uint8(frames):
    """(..., 3, H, W) in [-1, 1] -> (..., H, W, 3) uint8 (round half up, as skipdit does)."""
    u = np.floor(np.clip((frames * 0.5 + 0.5) * 255 + 0.5, 0, 255)).astype(np.uint8)
    return np.moveaxis(u, -3, -1)
