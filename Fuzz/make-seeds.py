#!/usr/bin/env python3
"""Writes the committed seed corpora under Fuzz/seeds/<target>/ (run from the repository root:
`python3 Fuzz/make-seeds.py`). Seeds are small, valid (or nearly valid) inputs built from the
fixtures: data.pkl files taken out of the fixture checkpoints, torch.save-style zips and
safetensors files rebuilt with tiny tensors, render states, SentencePiece models without the
200 KB normalization table, tokenizer JSON files, prompts and job/config YAML. scripts/fuzz
copies them, plus the fixture files that are small enough as they are, into out/fuzz/<target>/corpus.
Needs only the Python standard library (no torch, numpy or sentencepiece)."""

import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "Fuzz", "seeds")
# Seeds a target may keep; scripts/fuzz uses the same limits as -max_len.
MAX_LEN = {"pickle": 65536, "zip": 65536, "safetensors": 65536, "npy": 8192, "render-state": 8192,
           "spm": 16384, "tokenizer-config": 4096, "prompt": 512, "yaml": 16384, "job": 4096, "config": 16384}


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= MAX_LEN[target], (target, name, len(data))
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---- torch.save without torch: the same pickle opcodes and zip layout -------------------------------

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils
STORAGE_SIZES = {}
for cls_name, size in [("FloatStorage", 4), ("HalfStorage", 2), ("BFloat16Storage", 2), ("DoubleStorage", 8),
                       ("LongStorage", 8), ("IntStorage", 4), ("ShortStorage", 2), ("CharStorage", 1),
                       ("ByteStorage", 1), ("BoolStorage", 1)]:
    cls = type(cls_name, (), {"__module__": "torch"})
    setattr(torch, cls_name, cls)
    STORAGE_SIZES[cls_name] = size


def _rebuild_tensor_v2(*args):
    pass


def _rebuild_parameter(*args):
    pass


_rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2, torch_utils._rebuild_parameter = _rebuild_tensor_v2, _rebuild_parameter


class Storage:
    def __init__(self, key, cls_name, numel):
        self.key, self.cls, self.numel = key, getattr(torch, cls_name), numel
        self.data = bytes((i * 37 + 11) % 256 for i in range(numel * STORAGE_SIZES[cls_name]))


class Tensor:
    def __init__(self, storage, offset, shape, strides=None, parameter=False):
        if strides is None:
            strides, acc = [], 1
            for d in reversed(shape):
                strides.insert(0, acc)
                acc *= max(d, 1)
        self.storage, self.offset, self.shape, self.strides, self.parameter = storage, offset, shape, strides, parameter

    def __reduce_ex__(self, protocol):
        if self.parameter:
            plain = Tensor(self.storage, self.offset, self.shape, self.strides)
            return (_rebuild_parameter, (plain, True, collections.OrderedDict()))
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.shape), tuple(self.strides), False, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj, protocol=2):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def storages_of(obj, found):
    if isinstance(obj, Tensor):
        found[obj.storage.key] = obj.storage
    elif isinstance(obj, dict):
        for v in obj.values():
            storages_of(v, found)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            storages_of(v, found)
    return found


def torch_zip(obj, top="archive", protocol=2, zip64=False):
    buf = io.BytesIO()
    prefix = top + "/" if top else ""
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(prefix + name, date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
        add("data.pkl", torch_pickle(obj, protocol))
        add(".format_version", b"1")
        add("byteorder", b"little")
        for key, storage in sorted(storages_of(obj, {}).items()):
            add("data/" + key, storage.data)
        add("version", b"3\n")
    return buf.getvalue()


def state_dicts():
    """A few small state dicts in the shapes the loaders read (c2v/t2v Latte, VAE, T5)."""
    s0, s1, s2 = Storage("0", "FloatStorage", 64), Storage("1", "HalfStorage", 16), Storage("2", "BFloat16Storage", 8)
    sd = collections.OrderedDict()
    sd["pos_embed"] = Tensor(s0, 0, [1, 4, 8])
    sd["x_embedder.proj.weight"] = Tensor(s0, 32, [2, 2, 2, 2], parameter=True)
    sd["t_embedder.mlp.0.bias"] = Tensor(s1, 0, [16])
    sd["y_embedder.embedding_table.weight"] = Tensor(s2, 0, [2, 4])
    sd["blocks.0.attn.qkv.weight"] = Tensor(s0, 1, [4, 3], [1, 4])  # transposed (non-contiguous)
    sd["final_layer.linear.bias"] = Tensor(s0, 60, [])  # scalar
    yield "c2v-ema-model", {"ema": sd, "model": sd}
    yield "bare-state-dict", sd
    dtypes = collections.OrderedDict()
    for i, cls in enumerate(["DoubleStorage", "LongStorage", "IntStorage", "ShortStorage", "CharStorage",
                             "ByteStorage", "BoolStorage"]):
        dtypes["t%d" % i] = Tensor(Storage(str(i), cls, 6), 0, [2, 3])
    yield "all-dtypes", {"state_dict": dtypes, "epoch": 3, "lr": 1e-4, "name": "x", "flags": [True, None]}
    empty = Storage("e", "FloatStorage", 0)
    yield "empty-tensors", {"ema": collections.OrderedDict([("a", Tensor(empty, 0, [0, 4])), ("b", Tensor(empty, 0, [0]))])}
    shared = Storage("s", "FloatStorage", 12)
    yield "shared-storage", {"model": collections.OrderedDict(
        [("w", Tensor(shared, 0, [3, 4])), ("w_t", Tensor(shared, 0, [4, 3], [1, 4])), ("row", Tensor(shared, 8, [4])),
         ("bcast", Tensor(shared, 0, [5, 4], [0, 1]))])}


def write_checkpoint_seeds():
    # data.pkl of the fixture checkpoints (real torch.save output) where it fits.
    for path in ["Models/demo/latte-demo.pt", "Tests/Fixtures/vae/model/legacy_bin/diffusion_pytorch_model.bin",
                 "Tests/Fixtures/c2v/ckpt_cond.pt", "Tests/Fixtures/c2v/ckpt_uncond.pt"]:
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            data = z.read(name)
        if len(data) <= MAX_LEN["pickle"]:
            put("pickle", "fixture-" + os.path.basename(path) + ".pkl", data)
    for name, obj in state_dicts():
        for protocol in (2, 4):
            put("pickle", "%s-p%d.pkl" % (name, protocol), torch_pickle(obj, protocol))
        put("zip", name + ".pt", torch_zip(obj))
    put("zip", "c2v-ema-model-flat.pt", torch_zip(dict(state_dicts())["c2v-ema-model"], top=""))
    put("zip", "c2v-ema-model-zip64.pt", torch_zip(dict(state_dicts())["c2v-ema-model"], zip64=True))
    put("zip", "all-dtypes-p4.pt", torch_zip(dict(state_dicts())["all-dtypes"], protocol=4))
    # Shard indexes and safetensors go through Checkpoint.open's format detection too.
    put("zip", "shard-index.json", json.dumps(
        {"metadata": {"total_size": 64}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                                         "b.weight": "model-00002-of-00002.safetensors"}}))
    for name, data in safetensors_seeds():
        put("safetensors", name, data)
    put("zip", "small.safetensors", dict(safetensors_seeds())["synthetic-dtypes.safetensors"])


# ---- safetensors --------------------------------------------------------------------------------

ST_SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def safetensors(entries, metadata=None, pad=True):
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in entries:
        n = 1
        for d in shape:
            n *= d
        size = n * ST_SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        data += bytes((offset + i) % 251 for i in range(size))
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    seeds = []
    for path in ["Tests/Fixtures/vae/model/diffusers_safetensors/diffusion_pytorch_model.safetensors",
                 "Tests/Fixtures/vae/model/ldm_safetensors/vae.safetensors",
                 "Tests/Fixtures/vae-temporal/model/diffusion_pytorch_model.safetensors",
                 "Tests/Fixtures/t2v/model/text_encoder/model.safetensors",
                 "Tests/Fixtures/t2v/model/transformer/diffusion_pytorch_model.safetensors",
                 "Models/demo/vae/diffusion_pytorch_model.safetensors"]:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        metadata = header.pop("__metadata__", None)
        # The fixture's names, dtypes and ranks, with every dimension cut to at most 2.
        entries = [(k, v["dtype"], [min(d, 2) for d in v["shape"]]) for k, v in
                   sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])[:24]]
        seeds.append(("fixture-" + path.replace("/", "_"), safetensors(entries, metadata)))
    seeds.append(("synthetic-dtypes.safetensors", safetensors(
        [(d.lower() + ".w", d, [2, 3]) for d in ST_SIZES] + [("scalar", "F32", []), ("empty", "F32", [0, 5])],
        {"format": "pt"})))
    seeds.append(("unpadded.safetensors", safetensors([("a", "F32", [3]), ("b", "BF16", [1, 2])], pad=False)))
    return seeds


# ---- .npy ---------------------------------------------------------------------------------------

def npy(descr, shape, version=(1, 0), fortran=False):
    shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    size = {"<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "|u1": 1, "<u1": 1, "<f2": 2}[descr]
    n = 1
    for d in shape:
        n *= d
    prefix = 10 if version[0] == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header.encode("latin-1") + bytes(i % 256 for i in range(n * size))


def write_npy_seeds():
    put("npy", "f4-2x3.npy", npy("<f4", [2, 3]))
    put("npy", "f8-vector.npy", npy("<f8", [5]))
    put("npy", "i8-labels.npy", npy("<i8", [4]))
    put("npy", "i4-scalar.npy", npy("<i4", []))
    put("npy", "u1-frames.npy", npy("|u1", [2, 4, 4, 3]))
    put("npy", "u1-lt.npy", npy("<u1", [3]))
    put("npy", "empty.npy", npy("<f4", [0, 3]))
    put("npy", "v2.npy", npy("<f4", [2, 2], version=(2, 0)))
    put("npy", "v3.npy", npy("<f4", [2, 2], version=(3, 0)))
    put("npy", "fortran.npy", npy("<f4", [2, 2], fortran=True))
    put("npy", "f2-unsupported.npy", npy("<f2", [2]))
    nan = npy("<f4", [4])
    put("npy", "f4-nan-inf.npy", nan[:-16] + struct.pack("<4f", float("nan"), float("inf"), -float("inf"), 3e38))
    d = npy("<f8", [3])
    put("npy", "f8-nan-inf.npy", d[:-24] + struct.pack("<3d", float("nan"), float("inf"), 1e300))


# ---- render state -------------------------------------------------------------------------------

def render_state(latent_shape, cached_shape=None, finished=0, iteration=3):
    header = {"planDigest": "0123456789abcdef" * 4, "videoIndex": finished, "iteration": iteration,
              "latentShape": latent_shape, "cacheCounter": 5, "fullSteps": 2, "cachedSteps": 1,
              "denoiseSeconds": 1.5, "finishedVideos": [
                  {"seed": i, "path": "job-%d.mp4" % i, "poster": "job-%d.png" % i, "sha256": "ab" * 32,
                   "fullSteps": 6, "cachedSteps": 6, "timings": {"denoise": 1.0, "decode": 0.5, "encode": 0.1}}
                  for i in range(finished)]}
    if cached_shape is not None:
        header["cachedShape"] = cached_shape
    text = json.dumps(header).encode()
    count = 1
    for d in latent_shape:
        count *= d
    if cached_shape is not None:
        c = 1
        for d in cached_shape:
            c *= d
        count += c
    return b"SKIPDIT-STATE 1\n" + struct.pack("<I", len(text)) + text + struct.pack("<%df" % count, *[
        (i % 17) / 8.0 - 1 for i in range(count)])


def write_render_state_seeds():
    put("render-state", "c2v.state", render_state([1, 4, 2, 4, 4]))
    put("render-state", "c2v-cached.state", render_state([2, 4, 2, 2, 2], cached_shape=[2, 8, 16], finished=2))
    put("render-state", "start.state", render_state([4, 2, 2], iteration=0))


# ---- SentencePiece models -----------------------------------------------------------------------

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_fields(b):
    i, out = 0, []
    while i < len(b):
        key, i = read_varint(b, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(b, i)
        elif wire == 2:
            n, i = read_varint(b, i)
            v, i = b[i:i + n], i + n
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError("wire type %d" % wire)
        out.append((number, wire, v))
    return out


def read_varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def write_fields(fields):
    out = b""
    for number, wire, v in fields:
        out += varint(number << 3 | wire)
        if wire == 0:
            out += varint(v & 0xFFFFFFFFFFFFFFFF)
        elif wire == 2:
            out += varint(len(v)) + v
        else:
            out += v
    return out


def spm_variant(fields, model_type=None, normalizer="identity", pieces=None):
    out = []
    kept = 0
    for number, wire, v in fields:
        if number == 1:
            kept += 1
            if pieces is not None and kept > pieces:
                continue
        if number == 2 and model_type is not None:
            v = write_fields([(n, w, model_type if n == 3 else x) for n, w, x in read_fields(v)])
        if number == 3:  # normalizer_spec: the name, no precompiled charsmap
            v = write_fields([(n, w, normalizer.encode() if n == 1 else x) for n, w, x in read_fields(v) if n != 2])
        out.append((number, wire, v))
    return write_fields(out)


def write_spm_seeds():
    with open("Tests/Fixtures/t2v/model/tokenizer/spiece.model", "rb") as f:
        fields = read_fields(f.read())
    put("spm", "fixture-identity.model", spm_variant(fields))
    put("spm", "fixture-64-pieces.model", spm_variant(fields, pieces=64))
    put("spm", "fixture-bpe.model", spm_variant(fields, model_type=2, pieces=64))
    put("spm", "fixture-word.model", spm_variant(fields, model_type=3, pieces=64))
    put("spm", "fixture-char.model", spm_variant(fields, model_type=4, pieces=64))
    put("spm", "fixture-nfkc-name.model", spm_variant(fields, normalizer="nmt_nfkc", pieces=64))


# ---- tokenizer JSON files (first byte: 0 tokenizer_config.json, 1 special_tokens_map.json, 2 added_tokens.json)

def write_tokenizer_seeds():
    folder = "Tests/Fixtures/t2v/model/tokenizer"
    put("tokenizer-config", "fixture-config", b"\x00" + open(os.path.join(folder, "tokenizer_config.json"), "rb").read())
    put("tokenizer-config", "fixture-map", b"\x01" + open(os.path.join(folder, "special_tokens_map.json"), "rb").read())
    put("tokenizer-config", "extra-ids", b"\x00" + json.dumps(
        {"eos_token": "</s>", "extra_ids": 3, "additional_special_tokens": ["<extra_id_0>", "<extra_id_1>"]}).encode())
    put("tokenizer-config", "added-decoder", b"\x00" + json.dumps(
        {"added_tokens_decoder": {"0": {"content": "<pad>", "special": True}, "15": {"content": "<extra_id_0>"}},
         "pad_token": {"content": "<pad>"}}).encode())
    put("tokenizer-config", "map-objects", b"\x01" + json.dumps(
        {"eos_token": {"content": "</s>", "lstrip": False}, "additional_special_tokens": ["<extra_id_0>"]}).encode())
    put("tokenizer-config", "added-tokens", b"\x02" + json.dumps({"<extra_id_0>": 17, "<new>": 18}).encode())


def write_prompt_seeds():
    prompts = [
        "a dog surfing a wave at sunset",
        "A <b>bold</b> &amp; <a href='http://example.com/x'>linked</a> prompt &#x263A; &nbsp;",
        "Check @someone's photo at https://www.example.com/path?q=1 #sunset 123456789",
        "Ã©tÃ© mojibake â€” and “quotes” «guillemets» ‘single’",
        "   Mixed\tWhitespace\n\nand   SHOUTING   ",
        "中文 日本語 한국어 \U0001F600 emoji",
        "free shipping!!! 1920x1080 4k wallpaper download -- buy now :)",
        "</s> <pad> <unk> <extra_id_0> special tokens",
        "person%20with%20plus+signs%2C+unquoted",
        "",
    ]
    for i, p in enumerate(prompts):
        put("prompt", "prompt-%02d.txt" % i, p)


# ---- YAML ---------------------------------------------------------------------------------------

JOBS = {
    "class-index.yaml": "version: 1\nmodel: ucf101\nclass: 7\nseeds: [1, 2, 3]\nsampler: ddpm\nsteps: 25\n",
    "sky.yaml": "version: 1\nmodel: sky\nseed: 4\ncache: off\nfps: 12\npriority: -3\noutput: \"sky/{job}-{index}.mp4\"\n",
    "named-cache.yaml": ("version: 1\ntask: class-to-video\nmodel: named\nclass: up\nseed: 2\n"
                         "cache: { interval: 3, start: 800, stop: 100 }\nguidance: 4.5\n"),
    "t2v-block.yaml": ("version: 1\ntask: text-to-video\nmodel: t2v\nprompt: |\n  a long prompt\n  over lines\n"
                       "negative_prompt: 'blurry'\nseeds:\n  - 0\n  - 1\ncache: N3-700-50\noutput: \"{model}/{seed}.mp4\"\n"),
    "anchors.yaml": "version: 1\nmodel: &m demo\nclass: bounce\nseeds: &s [1, 2]\noutput: \"{class}-{seed}.mp4\"\n",
    "flow.yaml": "{version: 1, model: demo, class: 0, seed: 9, steps: 12, fps: 4}\n",
}


def write_yaml_seeds():
    for name, text in JOBS.items():
        put("job", name, text)
        put("yaml", "job-" + name, text)
    put("yaml", "tags-and-styles.yaml",
        "a: !!str 12\nb: !!int '7'\nc: !!float 3\nd: 'single'\ne: \"double \\u263a \\x41\"\nf: >\n  folded\n  text\n"
        "g: [.inf, -.inf, .nan, ~, null, true, False, 0x1F, 1e3, +5]\nh: {x: 1, y: [a, b, {c: d}]}\n")
    put("yaml", "alias.yaml", "base: &b {k: [1, 2, 3]}\nl: [*b, *b, *b]\n")
    put("config", "relative-paths.yaml", (
        "spool: spool\noutput: ../videos\nmodels:\n  m1:\n    task: class-to-video\n    checkpoint: m1.pt\n"
        "    vae: vae\n    classes: [a, b, c]\n    heads: 4\n    defaults: { sampler: ddim, steps: 20, guidance: 3, "
        "cache: N2-900-50, fps: 6, seed: 3 }\n  m2:\n    task: text-to-video\n    base: Latte-0\n    checkpoint: skip.pt\n"
        "    defaults: { negative_prompt: 'x' }\ncompute: { backend: onednn, precision: bf16, threads: 2 }\n"
        "limits: { max_frames: 16, max_steps: 100, max_videos_per_job: 4, max_resolution: 256, max_queued_jobs: 10 }\n"
        "logging: { level: debug }\ndaemon: {}\n"))


def write_regression_seeds():
    """The inputs of the bugs fuzzing found (see the FuzzRegressionTests files), kept in the corpora."""
    put("npy", "regression-f4-nan.npy", npy("<f4", [2])[:-8] + struct.pack("<2f", float("nan"), float("inf")))
    put("zip", "regression-self-shard.json", '{"weight_map":{"a":"model.pt"}}')
    nul_piece = bytes([10, 14, 10, 5, 60, 117, 110, 107, 62, 21, 0, 0, 0, 0, 24, 2, 10, 11, 10, 2, 0, 97, 21, 0, 0,
                       128, 191, 24, 1, 10, 10, 10, 1, 97, 21, 0, 0, 0, 192, 24, 1, 18, 5, 24, 1, 192, 2, 0])
    put("spm", "regression-nul-piece.model", nul_piece)
    put("tokenizer-config", "regression-negative-extra-ids", b"\x00" + b'{"extra_ids": -1}')
    put("tokenizer-config", "regression-empty", b"\x00")
    big = render_state([1])
    header = json.loads(big[20:20 + struct.unpack("<I", big[16:20])[0]])
    header["latentShape"] = [16777215, 16777215, 16777215]
    text = json.dumps(header).encode()
    put("render-state", "regression-overflow.state", b"SKIPDIT-STATE 1\n" + struct.pack("<I", len(text)) + text + bytes(16))
    put("yaml", "regression-combining-key.yaml", "base: &b {k: [x: demo, \u0653(17str: demo, 24]}\nl: [*b, *b]\n")


def main():
    if not os.path.isdir("Fuzz") or not os.path.isdir("Tests/Fixtures"):
        sys.exit("run from the repository root")
    shutil.rmtree(OUT, ignore_errors=True)
    write_checkpoint_seeds()
    write_npy_seeds()
    write_render_state_seeds()
    write_spm_seeds()
    write_tokenizer_seeds()
    write_prompt_seeds()
    write_yaml_seeds()
    write_regression_seeds()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print("wrote %d bytes of seeds to %s" % (total, os.path.relpath(OUT)))


if __name__ == "__main__":
    main()
