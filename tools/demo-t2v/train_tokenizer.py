"""Stage 1: trains the SentencePiece tokenizer on the caption grammar and writes it in the released T5
tokenizer's folder layout (WORK/tokenizer: spiece.model, tokenizer_config.json, special_tokens_map.json).

The model follows T5's spiece.model settings (text-to-video spec section 4): nmt_nfkc normalisation,
a dummy prefix, collapsed whitespace, pad 0, eos 1, unk 2, no BOS, no byte fallback. One difference:
BPE, not unigram. On a grammar of 33 words sentencepiece's unigram trainer keeps at most 59 pieces and
spells most words letter by letter ("▁", "c", "i", "r", "c", "le"), which leaves a tiny encoder to learn
spelling; BPE makes every grammar word one piece. skipdit reads either through libsentencepiece.
Every lowercase letter, digit and common punctuation mark is a piece, so a word outside the grammar
is spelled out rather than becoming <unk>. No extra ids (`extra_ids: 0`, like the golden fixture's
tokenizer): the text encoder's vocabulary is the SentencePiece model's.

Usage: python train_tokenizer.py --work WORK
"""

import argparse
import io
import json
import pathlib

import sentencepiece as spm

from captions import all_captions

p = argparse.ArgumentParser()
p.add_argument("--work", type=pathlib.Path, required=True)
p.add_argument("--vocab", type=int, default=200, help="pieces (enough for every grammar word to be one)")
args = p.parse_args()
out = args.work / "tokenizer"
out.mkdir(parents=True, exist_ok=True)

corpus = sorted(set(all_captions()))
model = io.BytesIO()
spm.SentencePieceTrainer.train(
    sentence_iterator=iter(corpus), model_writer=model, vocab_size=args.vocab, hard_vocab_limit=True,
    model_type="bpe", normalization_rule_name="nmt_nfkc", add_dummy_prefix=True,
    remove_extra_whitespaces=True, byte_fallback=False, character_coverage=1.0,
    required_chars="abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"-()/&",
    pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
    num_threads=1, shuffle_input_sentence=False, minloglevel=2)
(out / "spiece.model").write_bytes(model.getvalue())
(out / "special_tokens_map.json").write_text(
    json.dumps({"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}, indent=1) + "\n")
(out / "tokenizer_config.json").write_text(json.dumps({
    "tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
    "extra_ids": 0, "additional_special_tokens": [], "model_max_length": 120, "legacy": True,
    "clean_up_tokenization_spaces": True, "sp_model_kwargs": {}}, indent=1) + "\n")

sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
split = sorted({w for c in corpus for w in c.split() if len(sp.encode(w)) != 1})
assert not split, f"grammar words that are not one piece: {split} (raise --vocab)"
lengths = [len(sp.encode(c)) + 1 for c in corpus]
print(f"tokenizer: {sp.get_piece_size()} pieces from {len(corpus)} captions; tokens per caption "
      f"(with eos) {min(lengths)}..{max(lengths)}; e.g. {sp.encode(corpus[0], out_type=str)}", flush=True)
