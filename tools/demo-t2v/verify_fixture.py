"""Checks latte_t2v_skip.LatteT2VSkip against the text-to-video golden fixtures
(Tests/Fixtures/t2v). Usage: python verify_fixture.py [FIXTURE_DIR]

Loading follows spec section 7 (sample_t2v.py): build from model/transformer/config.json, load
the base safetensors (no skip_* tensors), then copy every tensor of skip/Latte-skip.pt["ema"]
whose name exists in the model. Every case of the manifest whose inputs this module can consume
is run (chosen by the inputs it provides, not by name):
  - hidden_states + timestep + encoder_hidden_states [+ encoder_attention_mask]: one forward,
    compared on the output and on every debug intermediate we know how to capture;
  - latents + prompt_embeds_cfg: a CFG batch-2 forward, the guided output, eps and one DDIM step;
  - latents_per_step (+ cache_parsed): a Skip-Cache step sequence and its no-cache reference;
  - initial_noise + sampler: the full CFG DDIM loop, using the encoder states of a case with the
    same prompt / negative prompt (T5 is not part of this module).
Errors are max|actual - expected| / max|expected|, the manifest's metric. Finally a gradient check
(finite gradients on every parameter). Exit status 1 on any failure.
"""

import json
import math
import pathlib
import sys

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from latte_t2v_skip import LatteT2VSkip, SkipCache, split_state_dict  # noqa: E402

torch.set_num_threads(1)
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                    pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/t2v")
manifest = json.loads((root / "manifest.json").read_text())
cases = {c["name"]: c for c in manifest["cases"]}


# ---- tolerances (manifest `suggested_tolerances`, keyed by prose; defaults = spec section 11) ----
def _tolerance(fragment: str, default: float) -> float:
    for key, value in manifest.get("suggested_tolerances", {}).items():
        if fragment in key and isinstance(value, (int, float)):
            return float(value)
    return default


TOL_FORWARD = _tolerance("transformer_forward", 3e-5)
TOL_GUIDED = _tolerance("cfg_forward guided", 5e-5)
TOL_SAMPLING = _tolerance("sampling", 1e-4)

# ---- model, loaded like sample_t2v.py ----
config = json.loads((root / "model/transformer/config.json").read_text())
model = LatteT2VSkip(num_attention_heads=config["num_attention_heads"],
                     attention_head_dim=config["attention_head_dim"], in_channels=config["in_channels"],
                     patch_size=config["patch_size"], sample_size=config["sample_size"],
                     video_length=config["video_length"], caption_channels=config["caption_channels"],
                     num_layers=config["num_layers"], norm_eps=config["norm_eps"])
failures = []


def check(label, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(label)


check("diffusers_config() == model/transformer/config.json", model.diffusers_config() == config)
base = load_file(str(root / "model/transformer/diffusion_pytorch_model.safetensors"))
missing, unexpected = model.load_state_dict(base, strict=False)
check("base safetensors: only skip_* missing, nothing unexpected",
      not unexpected and all(k.startswith(("skip_norms.", "skip_linears.")) for k in missing),
      f"{len(base)} tensors, {len(missing)} missing")
ckpt = torch.load(root / "skip/Latte-skip.pt", map_location="cpu", weights_only=True)
ema = ckpt["ema"] if "ema" in ckpt else ckpt["model"]
own = model.state_dict()
model.load_state_dict({k: v for k, v in ema.items() if k in own}, strict=False)  # ignore extras
check("ema key names and order == module state dict", list(ema.keys()) == list(own.keys()),
      f"{len(ema)} tensors")
model.load_state_dict(ema, strict=True)  # raises on any name/shape mismatch
split_base, split_full = split_state_dict(model.state_dict())
check("split_state_dict: base keys == fixture safetensors keys", set(split_base) == set(base)
      and len(split_full) == len(ema))
model.eval()


def load(ref):
    """An input/expected entry: {"file": ...}, {"same_as": "case.inputs.key"} or a literal list."""
    if isinstance(ref, dict) and "file" in ref:
        return torch.from_numpy(np.load(root / ref["file"]))
    if isinstance(ref, dict) and "same_as" in ref:
        node = cases
        for part in ref["same_as"].split("."):
            node = node[part]
        return load(node)
    return torch.tensor(ref)


def compare(label, actual, expected, tol):
    actual, expected = actual.detach().float(), expected.float()
    if actual.shape != expected.shape:
        check(label, False, f"shape {tuple(actual.shape)} != {tuple(expected.shape)}")
        return
    err = (actual - expected).abs().max().item()
    rel = err / max(expected.abs().max().item(), 1e-30)
    check(label, rel <= tol, f"max abs {err:.3g}, rel {rel:.3g} (tol {tol:g})")


# ---- debug intermediates: forward hooks, reshaped to the official layouts ----
def _debug_hooks(model, store):
    """name -> captured tensor in the official layout (see the manifest's `how`)."""
    def flat(t):  # (B, X, Y, D) -> (B*X, Y, D)
        return t.reshape(-1, t.shape[-2], t.shape[-1])

    def hook(name, fn):
        return lambda mod, args, out: store.__setitem__(name, fn(args, out))

    last = model.num_layers - 1
    mid = model.num_skips - 1
    spec = [
        (model.adaln_single, "adaln_single_t6", lambda a, o: o[0].flatten(1)),
        (model.adaln_single, "adaln_single_embedded_timestep", lambda a, o: o[1]),
        (model.adaln_single.emb.timestep_embedder, "timestep_sinusoid_256", lambda a, o: a[0]),
        (model.caption_projection, "caption_projection", lambda a, o: o),
        (model.transformer_blocks[0], "patch_embed_plus_pos", lambda a, o: flat(a[0])),
        (model.transformer_blocks[0], "after_spatial_block_0", lambda a, o: flat(o)),
        (model.temporal_transformer_blocks[0], "after_temporal_block_0", lambda a, o: flat(o)),
        (model.temporal_transformer_blocks[mid], f"after_temporal_block_{mid}", lambda a, o: flat(o)),
        (model.skip_linears[0], "skip_linear_0_out", lambda a, o: flat(o)),
        (model.temporal_transformer_blocks[last], f"after_temporal_block_{last}", lambda a, o: flat(o)),
        (model.proj_out, "proj_out", lambda a, o: flat(o)),
    ]
    return [m.register_forward_hook(hook(n, fn)) for m, n, fn in spec]


def run_forward_case(case):
    inp = case["inputs"]
    if not inp.get("enable_temporal_attentions", True):
        print(f"skip {case['name']}: enable_temporal_attentions false is not modelled")
        return
    x, t, e = load(inp["hidden_states"]), load(inp["timestep"]), load(inp["encoder_hidden_states"])
    mask = load(inp["encoder_attention_mask"]) if inp.get("encoder_attention_mask") else None
    store = {}
    handles = _debug_hooks(model, store)
    with torch.no_grad():
        out = model(x, t.long(), e, mask)
    for h in handles:
        h.remove()
    _, _, f, hh, ww = x.shape
    p = model.patch_size
    store["pos_embed_table"] = model._table("2d", hh // p, ww // p, device=x.device)
    store["temp_pos_embed_table"] = model._table("1d", f, device=x.device)
    for name, ref in case["expected"].items():
        compare(f"{case['name']} {name}", out if name == "output" else store[name], load(ref), TOL_FORWARD)
    for name, ref in case.get("debug", {}).items():
        if name not in store:
            print(f"skip {case['name']} debug {name}: not captured")
            continue
        tol = 1e-4 if name == "timestep_sinusoid_256" else TOL_FORWARD  # manifest: 1e-4 abs unless exact
        compare(f"{case['name']} debug {name}", store[name], load(ref), tol)


def ddim_step(x, eps, a_t, a_prev):
    """DDIM eta 0, epsilon prediction, no clipping."""
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps


def guide(raw, scale):
    uncond, cond = raw.chunk(2)
    return uncond + scale * (cond - uncond)


def run_cfg_case(case):
    inp, exp = case["inputs"], case["expected"]
    x, e = load(inp["latents"]), load(inp["prompt_embeds_cfg"])
    tau = case["timestep"]
    xx = x.repeat(e.shape[0] // x.shape[0], 1, 1, 1, 1)
    with torch.no_grad():
        raw = model(xx, torch.full((xx.shape[0],), tau, dtype=torch.long), e)
    guided = guide(raw, case["guidance_scale"])
    eps = guided[:, : model.in_channels]
    results = {"raw_output_batch2": (raw, TOL_FORWARD), "guided_all_channels": (guided, TOL_GUIDED),
               "eps_first4": (eps, TOL_GUIDED)}
    if "ddim" in case:
        d = case["ddim"]
        results["ddim_prev_sample"] = (ddim_step(x, eps, d["alpha_prod_t"], d["alpha_prod_t_prev"]), TOL_GUIDED)
    for name, ref in exp.items():
        if name in results:
            compare(f"{case['name']} {name}", results[name][0], load(ref), results[name][1])


def run_cache_sequence(case):
    inp, exp = case["inputs"], case["expected"]
    lat, e = load(inp["latents_per_step"]), load(inp["encoder_hidden_states"])
    cp = case["cache_parsed"]
    cache = SkipCache(gap=cp["cache_gap"], start=cp["start_timestep"], stop=cp["stop_timestep"])
    outs, nocache, kinds = [], [], []
    with torch.no_grad():
        for x, tau in zip(lat, case["timesteps"]):
            xx = x.repeat(e.shape[0] // x.shape[0], 1, 1, 1, 1)
            t = torch.full((xx.shape[0],), tau, dtype=torch.long)
            outs.append(model(xx, t, e, cache=cache))
            kinds.append(cache.last_kind)
            nocache.append(model(xx, t, e))
    check(f"{case['name']} step_kinds", kinds == case["step_kinds"], " ".join(kinds))
    got = {"outputs_per_step": torch.stack(outs), "no_cache_outputs_per_step": torch.stack(nocache)}
    for name, ref in exp.items():
        if name in got:
            compare(f"{case['name']} {name}", got[name], load(ref), TOL_FORWARD)


def _prompt_embeds_for(case):
    """Encoder states of another case with the same prompt / negative prompt (T5 not modelled)."""
    for other in manifest["cases"]:
        if ("prompt_embeds_cfg" in other.get("inputs", {}) and other.get("prompt") == case.get("prompt")
                and other.get("negative_prompt") == case.get("negative_prompt")):
            return load(other["inputs"]["prompt_embeds_cfg"]), other["name"]
    return None, None


def run_sampling_case(case):
    e, source = _prompt_embeds_for(case)
    if e is None:
        print(f"skip {case['name']}: no case provides encoder states for its prompt")
        return
    s = case["sampler"]
    if s.get("beta_schedule") != "linear" or s.get("prediction_type") != "epsilon" or s.get("eta", 0) != 0:
        print(f"skip {case['name']}: sampler settings not modelled")
        return
    betas = torch.linspace(s["beta_start"], s["beta_end"], s["num_train_timesteps"], dtype=torch.float32)
    acp = torch.cumprod(1.0 - betas, dim=0)  # float32, like diffusers
    taus = s["timesteps"]
    check(f"{case['name']} alphas_cumprod", np.allclose(acp[taus].numpy(), s["alphas_cumprod_at_timesteps"],
                                                          rtol=0, atol=1e-7))
    step = s["num_train_timesteps"] // s["num_inference_steps"]
    final_alpha = 1.0 if s.get("set_alpha_to_one", True) else acp[0].item()
    cache = SkipCache.from_flag(case["cache_flag"]) if case.get("cache_flag") else None
    x = load(case["inputs"]["initial_noise"])
    traj, kinds = [], []
    with torch.no_grad():
        for tau in taus:
            xx = x.repeat(e.shape[0] // x.shape[0], 1, 1, 1, 1)
            raw = model(xx, torch.full((xx.shape[0],), tau, dtype=torch.long), e, cache=cache)
            kinds.append(cache.last_kind if cache else "full")
            eps = guide(raw, s["guidance_scale"])[:, : model.in_channels]
            prev = tau - step
            x = ddim_step(x, eps, acp[tau].item(), acp[prev].item() if prev >= 0 else final_alpha)
            traj.append(x)
    print(f"     {case['name']}: encoder states taken from case {source}")
    if "step_kinds" in case:
        check(f"{case['name']} step_kinds", kinds == case["step_kinds"], " ".join(kinds))
    got = {"final_latents": x, "latents_after_each_step": torch.stack(traj)}
    for name, ref in case["expected"].items():
        if name in got:
            compare(f"{case['name']} {name}", got[name], load(ref), TOL_SAMPLING)


ran = 0
for case in manifest["cases"]:
    inp = case.get("inputs", {})
    if {"hidden_states", "timestep", "encoder_hidden_states"} <= inp.keys():
        run_forward_case(case)
    elif {"latents", "prompt_embeds_cfg"} <= inp.keys():
        run_cfg_case(case)
    elif "latents_per_step" in inp:
        run_cache_sequence(case)
    elif "initial_noise" in inp and "sampler" in case:
        run_sampling_case(case)
    else:
        print(f"skip {case['name']}: kind {case.get('kind')} is not a transformer case")
        continue
    ran += 1

# ---- gradient check: every parameter receives a finite gradient ----
fwd = next(c for c in manifest["cases"] if "encoder_attention_mask" in c.get("inputs", {})
           and c["inputs"]["encoder_attention_mask"])
model.train()
inp = fwd["inputs"]
out = model(load(inp["hidden_states"]), load(inp["timestep"]).long(), load(inp["encoder_hidden_states"]),
            load(inp["encoder_attention_mask"]))
out.square().mean().backward()
params = dict(model.named_parameters())
bad = [n for n, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all()]
zero = [n for n, p in params.items() if p.grad is not None and not p.grad.abs().max() > 0]
check("gradients finite on all parameters", not bad, f"{len(params)} parameters, "
      f"{sum(p.numel() for p in params.values())} elements, {len(bad)} bad, {len(zero)} all-zero")

check("at least one transformer case ran", ran > 0, f"{ran} cases")
print("PASS" if not failures else f"FAILED: {len(failures)} check(s)")
sys.exit(1 if failures else 0)
