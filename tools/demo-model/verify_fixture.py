"""Checks latte_skip.LatteSkip against the golden fixture (Tests/Fixtures/c2v): loads ckpt_cond.pt
("ema") into the module and compares the forward output of the fwd_cond case with the
official fp32 outputs. Usage: python verify_fixture.py [FIXTURE_DIR]"""

import json
import pathlib
import sys

import numpy as np
import torch

from latte_skip import LatteSkip

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/c2v")
manifest = json.loads((root / "manifest.json").read_text())
cfg = manifest["models"]["cond"]["config"]
model = LatteSkip(latent_size=cfg["latent_size"], patch_size=cfg["patch_size"], in_channels=cfg["in_channels"],
                  hidden_size=cfg["hidden_size"], num_heads=cfg["num_heads"], num_frames=cfg["num_frames"],
                  num_classes=cfg["num_classes"], mlp_ratio=cfg["mlp_ratio"])
state = torch.load(root / "ckpt_cond.pt", map_location="cpu", weights_only=True)["ema"]
assert list(state.keys()) == list(model.state_dict().keys()), "state-dict names/order differ"
model.load_state_dict(state, strict=True)
model.eval()
worst, checked = 0.0, 0
for case in manifest["cases"]:
    if case.get("kind") != "forward" or case.get("model") != "cond" or case["name"] not in ("fwd_cond",):
        continue
    x, t, y = (torch.from_numpy(np.load(root / case["inputs"][k]["file"])) for k in ("x", "t", "y"))
    with torch.no_grad():
        out = model(x, t, y).numpy()
    exp = np.load(root / case["expected"]["out"]["file"])
    err = float(np.abs(out - exp).max())
    tol = case["expected"]["out"]["tolerance_tight"]["atol"]
    print(f"{case['name']}: max |torch - golden| = {err:.3g} (tight tolerance {tol})")
    worst = max(worst, err / tol)
    checked += 1
sys.exit(0 if checked > 0 and worst <= 1 else 1)
