"""Does the text-to-video demo model draw what its prompt says? Renders prompts with skipdit (the
daemon's pipeline, `skipdit render`), decodes the MP4s with ffmpeg and recovers from the frames:

  motion      the shape's track (tools/demo-model/evaluate.py: the largest region off the border-median
              background, its centroid and area; bounce, left/right/up/down, grow/shrink or none)
  colour      the median colour of the shape's pixels (all frames), named by the nearest palette colour
  shape       on the frame where the shape is largest: fill of its bounding box (square ~1, circle ~0.79,
              triangle and diamond ~0.5) and, for the last two, where its centroid sits in the box
              (an upward triangle's is low, a diamond's central)
  background  the border median, named by the nearest background colour

By default the prompts are the held-out combinations (captions.held_out_prompts: colour, shape and
motion never drawn together in training), each for --seeds seeds, and the report gives per attribute
how often it matches the prompt. --json writes every video's result; --picture a PNG of a few videos
(every second frame) with their prompts.

Usage: python evaluate.py [--skipdit BIN] [--config CONFIG] [--model NAME] [--seeds N] [--cache SPEC]
                          [--json FILE] [--picture FILE]
"""

import argparse
import importlib.util
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from captions import BACKGROUND_NAMES, BACKGROUNDS, COLOUR_NAMES, COLOURS, MOTIONS, SHAPES, held_out_prompts

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
_spec = importlib.util.spec_from_file_location("c2v_evaluate", ROOT / "tools/demo-model/evaluate.py")
c2v = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(c2v)


def shape_mask(frame):
    """The shape's pixels on one (H, W, 3) uint8 frame (c2v's rule) and the background colour (0..1)."""
    f = frame.astype(np.float64) / 255.0
    border = np.concatenate([f[0], f[-1], f[:, 0], f[:, -1]])
    bg = np.median(border, axis=0)
    return c2v.largest_component(np.abs(f - bg).max(axis=2) > c2v.THRESHOLD), bg


def nearest(rgb, palette):
    names = list(palette)
    return names[int(np.argmin([np.linalg.norm(np.asarray(rgb) - np.asarray(palette[n])) for n in names]))]


def name_shape(mask):
    ys, xs = np.nonzero(mask)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = mask.sum() / (h * w)
    if fill > 0.9:
        return "square"
    if fill > 0.68:
        return "circle"
    low = (ys.mean() + 0.5 - ys.min()) / h  # the centroid's height in the box, 0 top .. 1 bottom
    return "triangle" if low > 0.56 else "diamond"


def describe(frames):
    """frames (F, H, W, 3) uint8 -> {motion, colour, shape, background} as names ("none" if no shape)."""
    masks, bgs = zip(*(shape_mask(f) for f in frames))
    result = {"motion": c2v.classify(c2v.track(frames)), "background": nearest(np.median(bgs, axis=0), BACKGROUNDS)}
    if not any(m.any() for m in masks):
        return result | {"colour": "none", "shape": "none"}
    pixels = np.concatenate([f[m] for f, m in zip(frames, masks)]).astype(np.float64) / 255.0
    result["colour"] = nearest(np.median(pixels, axis=0), COLOURS)
    result["shape"] = name_shape(max(masks, key=lambda m: m.sum()))
    return result


def read_mp4(path, size):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, size, size, 3)


def render(args, prompts, out):
    """Renders every prompt for seeds 1..N through `skipdit render`; returns {(prompt index, seed): frames}."""
    videos = {}
    seeds = list(range(1, args.seeds + 1))
    for i, prompt in enumerate(prompts):
        job = out / f"p{i}.yaml"
        job.write_text(f"version: 1\nmodel: {args.model}\nprompt: {json.dumps(prompt)}\nseeds: {seeds}\n"
                       f"cache: {args.cache}\noutput: \"p{i}-{{seed}}.mp4\"\n")
        subprocess.run([args.skipdit, "render", str(job), "--config", str(args.config), "--output", str(out)],
                       check=True, capture_output=True)
        for s in seeds:
            videos[(i, s)] = read_mp4(out / f"p{i}-{s}.mp4", args.size)
    return videos


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--skipdit", default=str(ROOT / ".build/release/skipdit"))
    p.add_argument("--config", type=pathlib.Path, default=ROOT / "etc/skipdit/demo.yaml")
    p.add_argument("--model", default="demo-t2v")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cache", default="{ interval: 2, start: 700, stop: 50 }")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--json", type=pathlib.Path)
    p.add_argument("--picture", type=pathlib.Path)
    args = p.parse_args()

    cases = held_out_prompts()
    prompts = [c[0] for c in cases]
    with tempfile.TemporaryDirectory() as tmp:
        videos = render(args, prompts, pathlib.Path(tmp))
    rows, right = [], {k: 0 for k in ("motion", "colour", "shape", "background")}
    for (i, seed), frames in sorted(videos.items()):
        c, s, m, b = cases[i][1]
        want = {"motion": MOTIONS[m], "colour": COLOUR_NAMES[c], "shape": SHAPES[s], "background": BACKGROUND_NAMES[b]}
        got = describe(frames)
        for k in right:
            right[k] += got[k] == want[k]
        rows.append({"prompt": prompts[i], "seed": seed, "want": want, "got": got})
    n = len(rows)
    print(f"{len(prompts)} held-out prompts x {args.seeds} seeds = {n} videos (cache {args.cache}):")
    for k, v in right.items():
        print(f"  {k:10s} {v:3d}/{n} = {100 * v / n:.0f}%")
    both = sum(r["got"]["motion"] == r["want"]["motion"] and r["got"]["colour"] == r["want"]["colour"] for r in rows)
    print(f"  motion and colour {both}/{n} = {100 * both / n:.0f}%")
    for r in rows:
        wrong = [k for k in right if r["got"][k] != r["want"][k]]
        if wrong:
            print(f"  seed {r['seed']} '{r['prompt']}': " + ", ".join(f"{k} {r['got'][k]}" for k in wrong))
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if args.picture:
        picture(args.picture, [(prompts[i], videos[(i, 1)]) for i in range(0, len(prompts), max(1, len(prompts) // 6))])


def picture(path, items):
    """A PNG: one row per video (every second frame, 2x), its prompt above it."""
    from PIL import Image, ImageDraw

    rows = []
    for prompt, frames in items:
        strip = np.concatenate(list(frames[::2]), axis=1).repeat(2, axis=0).repeat(2, axis=1)
        label = Image.new("RGB", (strip.shape[1], 18), (255, 255, 255))
        ImageDraw.Draw(label).text((4, 3), prompt, fill=(0, 0, 0))
        rows += [np.asarray(label), strip]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


if __name__ == "__main__":
    sys.exit(main())
