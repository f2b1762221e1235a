"""Shared settings of the demo-model training: determinism, threads, the VAE architecture."""

import os
import random

import numpy as np
import torch

THREADS = 2

# The demo VAE: a diffusers AutoencoderKL with 4 levels (8x downsampling) and 4 latent channels,
# small widths. norm_num_groups divides every width (skipdit checks it).
VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(16, 16, 32, 64),
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=8,
    sample_size=64,
)


def make_deterministic(seed: int) -> None:
    """Seeds every RNG, pins the thread count and asks torch for deterministic kernels."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def latent_scale(latents, train_args) -> float:
    """The factor from VAE latents to the transformer's: latents.pt's unit-variance scale times the
    --latent-std the transformer was trained with (checkpoints from before that option: 1)."""
    return float(latents["scale"]) * train_args.get("latent_std", 1.0)


def save_grid(path, rows):
    """Writes rows of uint8 (H, W, 3) frames as one PNG (a preview for people, not for training)."""
    from PIL import Image

    Image.fromarray(np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)).save(path)
