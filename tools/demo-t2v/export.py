"""Stage 4: writes the trained text-to-video demo model in the layout of the released files:

  OUT/grammar.json                  the caption grammar: named colours and backgrounds (RGB 0..1), shapes, motion
                                    wordings, and the held-out prompts with their attributes (what the tests
                                    and tools/demo-t2v/evaluate.py check renders against)
  OUT/Latte-skip.pt                 torch.save({"ema": state_dict}) (zip pickle, fp32), like Latte-skip.pt
  OUT/Latte/                        the base pipeline folder, like maxin-cn/Latte-1 (Latte-0):
    transformer/                      config.json (diffusers LatteT2V) + diffusion_pytorch_model.safetensors:
                                      the base weights without skip_* tensors, in float16 (every tensor is
                                      overridden by Latte-skip.pt's "ema", as with the released files)
    text_encoder/                     transformers T5EncoderModel save_pretrained (config.json, model.safetensors)
    tokenizer/                        spiece.model, tokenizer_config.json, special_tokens_map.json
    scheduler/scheduler_config.json   the DDIMScheduler config of the release
    vae_temporal_decoder/             diffusers AutoencoderKLTemporalDecoder (config.json with the measured
                                      scaling_factor, diffusion_pytorch_model.safetensors)

Usage: python export.py --work WORK --out ../../Models/demo-t2v
"""

import argparse
import json
import pathlib
import shutil

import sentencepiece as spm
import torch
from diffusers import AutoencoderKLTemporalDecoder
from safetensors.torch import save_file
from transformers import T5EncoderModel

from captions import BACKGROUNDS, COLOURS, MOTION_PHRASES, MOTIONS, SHAPES, held_out_prompts
from latte_t2v_skip import LatteT2VSkip, split_state_dict
from settings import FRAMES, t5_config

SCHEDULER = {
    "_class_name": "DDIMScheduler", "_diffusers_version": "0.24.0", "beta_end": 0.02, "beta_schedule": "linear",
    "beta_start": 0.0001, "clip_sample": False, "num_train_timesteps": 1000, "prediction_type": "epsilon",
    "set_alpha_to_one": True, "steps_offset": 0, "timestep_spacing": "leading", "trained_betas": None,
    "thresholding": False, "rescale_betas_zero_snr": False, "variance_type": "learned_range",
}

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--out", type=pathlib.Path, required=True)
args = p.parse_args()
base = args.out / "Latte"
for sub in ("transformer", "text_encoder", "tokenizer", "scheduler", "vae_temporal_decoder"):
    (base / sub).mkdir(parents=True, exist_ok=True)

ck = torch.load(args.work / "t2v.pt", weights_only=False)
a = ck["args"]
lat = torch.load(args.work / "latents.pt", weights_only=True)
scale = float(lat["scale"]) * a["latent_std"]

# Transformer: the config, the fp16 base weights, the fp32 skip checkpoint (EMA).
sp = spm.SentencePieceProcessor(model_file=str(args.work / "tokenizer" / "spiece.model"))
t5_cfg = t5_config(sp.get_piece_size())
latte = LatteT2VSkip(num_attention_heads=a["heads"], attention_head_dim=a["head_dim"],
                     in_channels=lat["mean"].shape[2], patch_size=2, sample_size=lat["mean"].shape[3],
                     video_length=FRAMES, caption_channels=t5_cfg.d_model)
latte.load_state_dict(ck["ema"])
skip_free, full = split_state_dict(latte.state_dict())
(base / "transformer" / "config.json").write_text(json.dumps(latte.diffusers_config(), indent=2) + "\n")
save_file({k: v.to(torch.float16).contiguous() for k, v in skip_free.items()},
          str(base / "transformer" / "diffusion_pytorch_model.safetensors"))
torch.save({"ema": full}, args.out / "Latte-skip.pt")

# Text encoder (EMA) and tokenizer.
t5 = T5EncoderModel(t5_cfg)
t5.load_state_dict(ck["ema_t5"])
t5.save_pretrained(base / "text_encoder", safe_serialization=True)
for name in ("spiece.model", "tokenizer_config.json", "special_tokens_map.json"):
    shutil.copyfile(args.work / "tokenizer" / name, base / "tokenizer" / name)
(base / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER, indent=1) + "\n")

# Temporal VAE with the scaling factor the transformer's latents were trained at.
vae = AutoencoderKLTemporalDecoder.from_pretrained(args.work / "vae")
vae.register_to_config(scaling_factor=round(scale, 5))
vae.save_pretrained(base / "vae_temporal_decoder", safe_serialization=True)
grammar = {
    "colours": COLOURS, "backgrounds": BACKGROUNDS, "shapes": SHAPES, "motions": MOTION_PHRASES,
    "held_out": [{"prompt": text, "colour": list(COLOURS)[c], "shape": SHAPES[s], "motion": MOTIONS[m],
                  "background": list(BACKGROUNDS)[b]} for text, (c, s, m, b) in held_out_prompts()],
}
(args.out / "grammar.json").write_text(json.dumps(grammar, indent=1) + "\n")
print(f"exported step {ck['step']} (D {a['heads'] * a['head_dim']}, heads {a['heads']}); VAE scaling factor "
      f"{round(scale, 5)} -> {args.out}")
