"""Procedural captioned clips for the text-to-video demo model: one bright shape on a flat dark
background, moving as its caption says. Captions come from a small grammar that names the colour, the
shape and the motion, and half the time the background:

    a red circle moves to the left on a dark blue background
    a green square gets bigger

Shapes, motions and the drawing come from the class-to-video demo's data (tools/demo-model/data.py:
the same trajectories, so the lessons recorded there hold: bright shapes on dark backgrounds, paths
through the middle of the frame). Here the colours and backgrounds are named, and the caption picks them.

Held-out combinations: for every (shape, motion) pair one colour is never drawn in training
(`HELD_OUT`), chosen so that each colour still appears with every motion and every shape in training.
The evaluation renders those unseen combinations.

Clips are float32 (N, F, 3, H, W) in [-1, 1]; everything follows from one numpy Generator.
"""

import pathlib
import sys

import numpy as np

sys.path.append(str(pathlib.Path(__file__).resolve().parent.parent / "demo-model"))
from data import CLASSES as MOTIONS, FRAMES, MIRROR, SHAPES, SIZE, _coverage, _trajectory, to_uint8  # noqa: E402

# Named shape colours: bright and far apart in hue, so the evaluation can name a rendered colour by
# its nearest entry.
COLOURS = {
    "red": (1.00, 0.25, 0.20),
    "yellow": (1.00, 0.92, 0.25),
    "green": (0.30, 0.95, 0.35),
    "blue": (0.30, 0.55, 1.00),
    "purple": (0.75, 0.35, 1.00),
    "white": (0.95, 0.95, 0.95),
}
# Named backgrounds: all dark, so every shape is brighter than its background.
BACKGROUNDS = {
    "black": (0.04, 0.04, 0.05),
    "dark blue": (0.04, 0.07, 0.22),
    "dark green": (0.04, 0.17, 0.07),
    "dark red": (0.22, 0.05, 0.05),
    "dark purple": (0.15, 0.05, 0.20),
    "grey": (0.20, 0.20, 0.20),
}
# The words for each motion (the first is the canonical one the evaluation prompts use).
MOTION_PHRASES = {
    "left": ["moves to the left", "moves left", "slides to the left"],
    "right": ["moves to the right", "moves right", "slides to the right"],
    "up": ["moves up", "rises"],
    "down": ["moves down", "sinks"],
    "grow": ["grows", "gets bigger"],
    "shrink": ["shrinks", "gets smaller"],
    "bounce": ["bounces", "bounces up and down"],
}
COLOUR_NAMES = list(COLOURS)
BACKGROUND_NAMES = list(BACKGROUNDS)


def held_out_colour(shape: int, motion: int) -> int:
    """The colour index never trained with this shape and motion. For a fixed colour and motion at
    most one shape is held out, and for a fixed colour and shape at most three of the seven motions."""
    return (shape + 2 * motion) % len(COLOURS)


HELD_OUT = {(held_out_colour(s, m), s, m) for s in range(len(SHAPES)) for m in range(len(MOTIONS))}


def caption(colour: int, shape: int, motion: int, background: int | None, phrase: int = 0) -> str:
    """The caption of a clip; background None leaves it unnamed."""
    words = MOTION_PHRASES[MOTIONS[motion]]
    text = f"a {COLOUR_NAMES[colour]} {SHAPES[shape]} {words[phrase % len(words)]}"
    if background is not None:
        text += f" on a {BACKGROUND_NAMES[background]} background"
    return text


def draw(colour: int, shape: int, motion: int, background: int, rng) -> np.ndarray:
    """One clip (F, 3, H, W) in [-1, 1]."""
    bg = np.array(BACKGROUNDS[BACKGROUND_NAMES[background]])
    fg = np.array(COLOURS[COLOUR_NAMES[colour]])
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
    backdrop = np.broadcast_to(bg[:, None, None], (3, SIZE, SIZE))
    xs, ys, rs = _trajectory(motion, rng)
    frames = np.empty((FRAMES, 3, SIZE, SIZE), dtype=np.float32)
    for f in range(FRAMES):
        a = _coverage(SHAPES[shape], xx, yy, xs[f], ys[f], rs[f])[None]
        frames[f] = (backdrop * (1 - a) + fg[:, None, None] * a) * 2 - 1
    return frames


def training_combinations():
    """Every (colour, shape, motion) drawn in training, in a fixed order."""
    return [(c, s, m) for c in range(len(COLOURS)) for s in range(len(SHAPES)) for m in range(len(MOTIONS))
            if (c, s, m) not in HELD_OUT]


def make_dataset(n: int, seed: int):
    """n clips of the training combinations (balanced over motions, then uniform) with their attributes.

    Returns clips (n, F, 3, H, W) float32 and attrs (n, 4) int64: colour, shape, motion, background.
    """
    rng = np.random.default_rng(seed)
    combos = training_combinations()
    by_motion = [[c for c in combos if c[2] == m] for m in range(len(MOTIONS))]
    motions = rng.permutation(np.arange(n) % len(MOTIONS))
    clips = np.empty((n, FRAMES, 3, SIZE, SIZE), dtype=np.float32)
    attrs = np.empty((n, 4), dtype=np.int64)
    for i, m in enumerate(motions):
        c, s, _ = by_motion[m][rng.integers(len(by_motion[m]))]
        b = int(rng.integers(len(BACKGROUNDS)))
        clips[i] = draw(c, s, int(m), b, rng)
        attrs[i] = (c, s, m, b)
    return clips, attrs


def random_caption(attrs, rng, mirrored: bool = False) -> str:
    """A caption for a clip's attributes (colour, shape, motion, background): a random wording of the
    motion and the background named half the time. mirrored: the caption of the clip played backwards."""
    c, s, m, b = (int(v) for v in attrs)
    if mirrored:
        m = MIRROR[m]
    phrase = int(rng.integers(len(MOTION_PHRASES[MOTIONS[m]])))
    return caption(c, s, m, b if rng.random() < 0.5 else None, phrase)


def all_captions():
    """Every caption the grammar can produce for the training combinations (the tokenizer's corpus)."""
    out = []
    for c, s, m in training_combinations():
        for phrase in range(len(MOTION_PHRASES[MOTIONS[m]])):
            out.append(caption(c, s, m, None, phrase))
            out.extend(caption(c, s, m, b, phrase) for b in range(len(BACKGROUNDS)))
    return out


def held_out_prompts():
    """The evaluation prompts: every held-out combination, canonical wording, background named
    (cycled through the backgrounds), with its attributes."""
    out = []
    for i, (c, s, m) in enumerate(sorted(HELD_OUT, key=lambda k: (k[2], k[1], k[0]))):
        b = i % len(BACKGROUNDS)
        out.append((caption(c, s, m, b), (c, s, m, b)))
    return out


__all__ = ["BACKGROUNDS", "BACKGROUND_NAMES", "COLOURS", "COLOUR_NAMES", "FRAMES", "HELD_OUT", "MIRROR", "MOTIONS",
           "SHAPES", "SIZE", "all_captions", "caption", "draw", "held_out_prompts", "make_dataset",
           "random_caption", "to_uint8", "training_combinations"]
