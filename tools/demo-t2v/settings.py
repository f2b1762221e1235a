"""Shared settings of the text-to-video demo training: the class-to-video demo's determinism helpers,
the temporal VAE, the tiny T5 encoder and the transformer sizes."""

import pathlib
import sys

sys.path.append(str(pathlib.Path(__file__).resolve().parent.parent / "demo-model"))
from common import THREADS, make_deterministic, save_grid  # noqa: E402,F401

# Frames the transformer and the temporal decoder see: every second frame of a 16-frame clip.
FRAMES = 8

# The temporal VAE: diffusers' AutoencoderKLTemporalDecoder (Stable Video Diffusion's layout, like
# Latte's vae_temporal_decoder) with 4 levels (8x downsampling) and 4 latent channels. Its GroupNorms
# have 32 groups (hard-coded in diffusers), so every width is a multiple of 32.
VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 4,
    block_out_channels=(32, 32, 32, 64),
    layers_per_block=1,
    latent_channels=4,
    sample_size=64,
)


# The text encoder: transformers' T5EncoderModel (T5 v1.1 layout: gated-GELU, no biases, relative
# position buckets), tiny.
def t5_config(vocab_size: int):
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=64, d_kv=16, num_heads=4, d_ff=128, num_layers=2,
                    num_decoder_layers=2, feed_forward_proj="gated-gelu", relative_attention_num_buckets=32,
                    relative_attention_max_distance=128, dropout_rate=0.0, layer_norm_epsilon=1e-6,
                    is_encoder_decoder=False, use_cache=False, tie_word_embeddings=True,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
