"""Write a whisper.cpp ggml model with random weights and the real tensor layout.

Usage: synth_whisper.py OUT.bin [STATE,HEADS,LAYERS[,TEXT_LAYERS[,MELS]]]
The default shape (64,2,1) is tiny and fast for plumbing tests; 384,6,4 matches
whisper-tiny exactly (same speed as the real model); 1280,20,32,4,128 is large-v3-turbo. The words it produces are
meaningless: tests assert on structure and timing, never on content.
"""
import struct
import sys

import numpy as np

GGML_MAGIC = 0x67676D6C
N_MELS, N_FFT_BINS = 80, 201
AUDIO_CTX, TEXT_CTX = 1500, 448
N_VOCAB = 51865  # multilingual vocabulary size: enables language selection (-l de)
N_TOKENS = 50257


def main() -> None:
    out = sys.argv[1]
    shape = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else "64,2,1").split(",")]
    state, heads, layers = shape[:3]
    text_layers = shape[3] if len(shape) > 3 else layers
    n_mels = shape[4] if len(shape) > 4 else N_MELS
    n_vocab = N_VOCAB + 1 if n_mels == 128 else N_VOCAB  # large-v3 vocabulary (51866)
    rng = np.random.default_rng(0)
    with open(out + ".part", "wb") as f:
        put = lambda fmt, *vals: f.write(struct.pack(fmt, *vals))
        put("I", GGML_MAGIC)
        # hparams: vocab, audio ctx/state/head/layer, text ctx/state/head/layer, mels, ftype (1 = f16)
        put("11i", n_vocab, AUDIO_CTX, state, heads, layers, TEXT_CTX, state, heads, text_layers, n_mels, 1)
        put("2i", n_mels, N_FFT_BINS)
        f.write((np.abs(rng.standard_normal((n_mels, N_FFT_BINS))) * 0.01).astype("<f4").tobytes())
        put("i", N_TOKENS)
        for i in range(N_TOKENS):
            word = b" " if i == 220 else (" t%d" % i).encode()
            put("I", len(word))
            f.write(word)

        def tensor(name: str, *shape: int) -> None:
            is_norm = name.endswith("ln.weight") or name.endswith("ln_post.weight")
            data = np.ones(shape, "<f4") if is_norm else (rng.standard_normal(shape) * 0.05).astype("<f4")
            half = len(shape) > 1 and not name.endswith(("bias", "embedding"))
            if half:
                data = data.astype("<f2")
            put("3i", len(shape), len(name), 1 if half else 0)
            for dim in reversed(shape):
                put("i", dim)
            f.write(name.encode())
            f.write(data.tobytes())

        def block(prefix: str, attentions: list) -> None:
            for att in attentions:
                tensor(f"{prefix}.{att}_ln.weight", state)
                tensor(f"{prefix}.{att}_ln.bias", state)
                for part in ("query", "key", "value", "out"):
                    tensor(f"{prefix}.{att}.{part}.weight", state, state)
                    if part != "key":
                        tensor(f"{prefix}.{att}.{part}.bias", state)
            tensor(f"{prefix}.mlp_ln.weight", state)
            tensor(f"{prefix}.mlp_ln.bias", state)
            tensor(f"{prefix}.mlp.0.weight", 4 * state, state)
            tensor(f"{prefix}.mlp.0.bias", 4 * state)
            tensor(f"{prefix}.mlp.2.weight", state, 4 * state)
            tensor(f"{prefix}.mlp.2.bias", state)

        tensor("encoder.positional_embedding", AUDIO_CTX, state)
        tensor("encoder.conv1.weight", state, n_mels, 3)
        tensor("encoder.conv1.bias", state, 1)
        tensor("encoder.conv2.weight", state, state, 3)
        tensor("encoder.conv2.bias", state, 1)
        tensor("encoder.ln_post.weight", state)
        tensor("encoder.ln_post.bias", state)
        for i in range(layers):
            block(f"encoder.blocks.{i}", ["attn"])
        tensor("decoder.positional_embedding", TEXT_CTX, state)
        tensor("decoder.token_embedding.weight", n_vocab, state)
        tensor("decoder.ln.weight", state)
        tensor("decoder.ln.bias", state)
        for i in range(text_layers):
            block(f"decoder.blocks.{i}", ["attn", "cross_attn"])
    import os

    os.replace(out + ".part", out)


if __name__ == "__main__":
    main()
