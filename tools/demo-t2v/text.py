"""The text side of the demo pipeline, as LattePipeline runs it (text-to-video spec sections 4-5):
SentencePiece ids + eos, the T5 encoder with its attention mask, and mask_feature truncation (the
prompt's and the negative prompt's embeddings both cut to the prompt's K = pieces + eos tokens).

Captions of the grammar are already what caption cleaning returns (lowercase words, single spaces),
so training tokenizes them directly.

Training pads a batch to its longest caption instead of 120 tokens: the encoder masks pad keys, and
its relative position bias depends on offsets only, so each caption's first K outputs are the same.
The negative prompt "" is ids [1, 0, ...]: its pad queries see the single eos key, so its outputs at
positions 1.. are equal whatever the padded length.
"""

import torch

EOS, PAD = 1, 0


def tokenize(sp, captions, max_length=120):
    """captions -> ids (n, L) int64 and mask (n, L) int64, L = the longest caption's pieces + eos."""
    rows = [sp.encode(c)[: max_length - 1] + [EOS] for c in captions]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def condition(t5, sp, captions, unconditional):
    """Encoder states for the transformer, as the pipeline builds them for each caption.

    captions: n strings; unconditional: n bools (True: the negative prompt "" cut to the caption's
    length, the classifier-free-guidance branch). Returns states (n, L, d_model) and the key mask
    (n, L) of each row's K valid tokens (the pipeline attends to exactly those K, unmasked).
    """
    ids, mask = tokenize(sp, captions)
    empty = torch.zeros((1, ids.shape[1]), dtype=torch.long)
    empty[0, 0] = EOS
    empty_mask = torch.zeros_like(empty)
    empty_mask[0, 0] = 1
    states = t5(input_ids=torch.cat([ids, empty]), attention_mask=torch.cat([mask, empty_mask])).last_hidden_state
    uncond = torch.as_tensor(unconditional, dtype=torch.bool)[:, None, None]
    states = torch.where(uncond, states[-1:].expand(len(captions), -1, -1), states[:-1])
    return states * mask[..., None].to(states.dtype), mask
