"""Reference token ids from Hugging Face `tokenizers`, for the tokenizer tests.

Not run by CI: it regenerates the expected values pinned in tests/tokenizer_smollm2.rs.
In a throwaway venv:  pip install gguf tokenizers
    python hf_tokenizer.py MODEL.gguf MOBY_DICK.txt SHAKESPEARE_DIR

Builds the tokenizer from the GGUF's vocabulary and merges with the pre-tokenizer of
SmolLM2's tokenizer.json (Digits(individual_digits) then ByteLevel), then prints:
- the ids of a few short strings,
- for each corpus prefix used by the tests: its length in tokens and the FNV-1a 64 hash of
  the ids (each id as 4 little-endian bytes).
"""
import glob
import os
import sys

from gguf import GGUFReader
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

SHORT = [
    "Call me Ishmael.",
    "Hello world's  end, 2024!\n\n",
    "“Ahoy—there,” he said; it's 3.14 o'clock…",
    "<|im_start|>user\nHi<|im_end|>",
    "   leading and trailing   ",
    "naïve café ünïcödé 日本語 🐳",
    "a\x04b",
    "x\U00040000y",
]
MOBY_PREFIX = 200_000
SHAKESPEARE_PLAY = "tragedies/hamlet.md"


def field_strings(reader, key):
    f = reader.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def build(path):
    r = GGUFReader(path)
    tokens = field_strings(r, "tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in field_strings(r, "tokenizer.ggml.merges")]
    tt = r.fields["tokenizer.ggml.token_type"]
    types = [int(tt.parts[i][0]) for i in tt.data]
    tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty == 3]
    )
    return tok


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for i in ids:
        for b in i.to_bytes(4, "little"):
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    model, moby, shakespeare = sys.argv[1:4]
    tok = build(model)
    for s in SHORT:
        print(repr(s), tok.encode(s).ids)
    text = open(moby, encoding="utf-8").read()[:MOBY_PREFIX]
    ids = tok.encode(text).ids
    print("moby prefix", MOBY_PREFIX, "chars:", len(ids), "tokens, fnv", hex(fnv1a64(ids)))
    play = open(os.path.join(shakespeare, SHAKESPEARE_PLAY), encoding="utf-8").read()
    ids = tok.encode(play).ids
    print(SHAKESPEARE_PLAY, len(ids), "tokens, fnv", hex(fnv1a64(ids)))
    # Whole corpora, for the one-off full comparison.
    full = tok.encode(open(moby, encoding="utf-8").read()).ids
    print("moby full", len(full), "fnv", hex(fnv1a64(full)))
    plays = sorted(glob.glob(os.path.join(shakespeare, "*", "*.md")))
    all_ids = []
    for p in plays:
        all_ids += tok.encode(open(p, encoding="utf-8").read()).ids
    print("shakespeare full", len(plays), "plays", len(all_ids), "fnv", hex(fnv1a64(all_ids)))


if __name__ == "__main__":
    main()
