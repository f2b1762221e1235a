"""Stage 3: writes the trained demo model in the formats of the released files:

  OUT/latte-demo.pt   torch.save({"ema": state_dict}) (zip format), like ucf101-skip.pt
  OUT/vae/            diffusers AutoencoderKL folder (config.json with the measured scaling_factor,
                      diffusion_pytorch_model.safetensors), like sd-vae-ft-ema
  OUT/classes.txt     class names in label order

Usage: python export.py --work WORK --out ../../Models/demo
"""

import argparse
import pathlib

import torch
from diffusers import AutoencoderKL

from common import latent_scale
from data import CLASSES

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--out", type=pathlib.Path, required=True)
args = p.parse_args()
args.out.mkdir(parents=True, exist_ok=True)

ck = torch.load(args.work / "latte.pt", weights_only=False)
scale = latent_scale(torch.load(args.work / "latents.pt", weights_only=True), ck["args"])
vae = AutoencoderKL.from_pretrained(args.work / "vae")
vae.register_to_config(scaling_factor=round(scale, 5))
vae.save_pretrained(args.out / "vae", safe_serialization=True)

ema = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in ck["ema"].items()}
torch.save({"ema": ema}, args.out / "latte-demo.pt")
(args.out / "classes.txt").write_text("".join(c + "\n" for c in CLASSES))
print(f"exported step {ck['step']} (hidden {ck['args']['hidden']}, heads {ck['args']['heads']}); "
      f"VAE scaling factor {round(scale, 5)} -> {args.out}")
