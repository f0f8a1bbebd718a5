"""Write a llama-architecture GGUF with random weights and a real SentencePiece vocabulary.

Usage: synth_llama.py LLAMA_CPP_SOURCE_DIR OUT.gguf [EMBED,LAYERS,HEADS,KV_HEADS,FFN[,VOCAB]]
The shape defaults to a tiny model; 4096,36,32,8,12288,151936 is Qwen3-8B's (written as f16: use
llama-quantize for Q4_K_M). The vocabulary is llama's 32000 SentencePiece tokens, padded with unused tokens
up to VOCAB when given (the embedding and output matrices then have the real model's size).
Uses the gguf-py package and the vocab-only GGUF that ship inside the llama.cpp source tree.
The model runs at real speed for its size but its text is meaningless.
"""
import os
import sys

import numpy as np

src, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "gguf-py"))
import gguf  # noqa: E402

shape = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "64,2,4,4,128").split(",")]
EMBED, LAYERS, HEADS, KV_HEADS, FFN = shape[:5]
VOCAB = shape[5] if len(shape) > 5 else 0
HEAD_DIM = EMBED // HEADS

vocab = gguf.GGUFReader(os.path.join(src, "models", "ggml-vocab-llama-spm.gguf")).fields


def field(key, convert):
    entry = vocab[key]
    return [convert(entry.parts[i]) for i in entry.data]


tokens = field("tokenizer.ggml.tokens", bytes)
scores = field("tokenizer.ggml.scores", lambda p: float(p[0]))
types = field("tokenizer.ggml.token_type", lambda p: int(p[0]))
pad = max(0, VOCAB - len(tokens))
tokens += [f"<unused{i}>".encode() for i in range(pad)]
scores += [-1e4] * pad
types += [5] * pad  # UNUSED: never produced by the tokenizer
writer = gguf.GGUFWriter(out + ".part", "llama")
writer.add_context_length(4096)
writer.add_embedding_length(EMBED)
writer.add_block_count(LAYERS)
writer.add_feed_forward_length(FFN)
writer.add_head_count(HEADS)
writer.add_head_count_kv(KV_HEADS)
writer.add_layer_norm_rms_eps(1e-5)
writer.add_rope_dimension_count(EMBED // HEADS)
writer.add_tokenizer_model("llama")
writer.add_token_list(tokens)
writer.add_token_scores(scores)
writer.add_token_types(types)
writer.add_bos_token_id(1)
writer.add_eos_token_id(2)
writer.add_unk_token_id(0)
writer.add_chat_template(
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
rng = np.random.default_rng(0)
big = EMBED >= 1024
# Large shapes: f16 from a repeated random block (values do not change the speed; generating gigabytes of
# normal samples would take minutes).
block = (rng.standard_normal(1 << 20) * 0.02).astype("f2")


def rand(*shape):
    if not big:
        return (rng.standard_normal(shape) * 0.5).astype("f4")
    n = int(np.prod(shape))
    return np.resize(block, n).reshape(shape)



ones = lambda n: np.ones(n, "f4")
writer.add_tensor("token_embd.weight", rand(len(tokens), EMBED))
writer.add_tensor("output_norm.weight", ones(EMBED))
writer.add_tensor("output.weight", rand(len(tokens), EMBED))
for i in range(LAYERS):
    p = f"blk.{i}."
    writer.add_tensor(p + "attn_norm.weight", ones(EMBED))
    writer.add_tensor(p + "ffn_norm.weight", ones(EMBED))
    writer.add_tensor(p + "attn_q.weight", rand(EMBED, EMBED))
    writer.add_tensor(p + "attn_k.weight", rand(KV_HEADS * HEAD_DIM, EMBED))
    writer.add_tensor(p + "attn_v.weight", rand(KV_HEADS * HEAD_DIM, EMBED))
    writer.add_tensor(p + "attn_output.weight", rand(EMBED, EMBED))
    writer.add_tensor(p + "ffn_gate.weight", rand(FFN, EMBED))
    writer.add_tensor(p + "ffn_up.weight", rand(FFN, EMBED))
    writer.add_tensor(p + "ffn_down.weight", rand(EMBED, FFN))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
os.replace(out + ".part", out)
