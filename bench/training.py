#!/usr/bin/env python3
"""`bench/run training`: one optimiser step (forward, backward through next-token cross-entropy over
the vocabulary, AdamW) of SmolLM2-135M at seq 256 x batch 4 on the CPU, full fine-tuning and LoRA
rank 8 (q and v, alpha 16), PruneLang against PyTorch (transformers' LlamaForCausalLM in float32,
SmolLM2's config, sdpa attention) with the same threads, batch, sequence and optimiser, in one run.

Each side and each configuration runs in a process of its own, which reports its best and median step
time over `--steps` steps after one untimed warm-up step, and its own peak resident memory
(getrusage). tokens/s = batch x seq / best step time; ratio = ours / PyTorch's tokens/s (> 1:
PruneLang faster); memory ratio = ours / PyTorch's peak (< 1: PruneLang smaller). PyTorch's weights
are freshly initialised (the step's cost does not depend on their values); ids are pseudo-random.
The driver runs this file with the Python of `.venv-torch` (scripts/ensure-torch) or of
$PRUNELANG_TORCH_PYTHON. Prints one JSON object per configuration."""
import argparse, json, os, resource, subprocess, sys, time


def torch_worker(args):
    import torch
    import transformers
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                      num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
                                      rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True, hidden_act="silu",
                                      attention_bias=False, mlp_bias=False)
    model = transformers.LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.float32)
    model.train()
    if args.lora > 0:
        for p in model.parameters():
            p.requires_grad_(False)

        class LoRA(torch.nn.Module):
            """y = W x + (alpha / r) B A x, W frozen, A kaiming-uniform, B zero (PEFT's LoRA layer)."""
            def __init__(self, base, r, alpha):
                super().__init__()
                self.base, self.scale = base, alpha / r
                self.a = torch.nn.Parameter(torch.empty(r, base.in_features))
                self.b = torch.nn.Parameter(torch.zeros(base.out_features, r))
                torch.nn.init.kaiming_uniform_(self.a, a=5 ** 0.5)

            def forward(self, x):
                return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale

        for layer in model.model.layers:
            layer.self_attn.q_proj = LoRA(layer.self_attn.q_proj, args.lora, 2 * args.lora)
            layer.self_attn.v_proj = LoRA(layer.self_attn.v_proj, args.lora, 2 * args.lora)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 49152, (args.batch, args.seq + 1), generator=g)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    times, loss = [], float("nan")
    for s in range(args.steps + 1):
        t0 = time.perf_counter()
        logits = model(input_ids=inputs).logits
        l = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        opt.zero_grad(set_to_none=True)
        l.backward()
        opt.step()
        t = time.perf_counter() - t0
        if s > 0:
            times.append(t)
        loss = l.item()
    times.sort()
    tokens = args.batch * args.seq
    print(json.dumps({"best_s": times[0], "median_s": times[len(times) // 2], "tokens_per_s": tokens / times[0],
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "last_loss": loss,
                      "trainable": sum(p.numel() for p in params), "torch": torch.__version__,
                      "transformers": transformers.__version__}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary")
    ap.add_argument("--model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--loras", type=int, nargs="+", default=[0, 8])
    ap.add_argument("--worker", action="store_true", help="run PyTorch's side of one configuration (internal)")
    ap.add_argument("--lora", type=int, default=0)
    args = ap.parse_args()
    if args.worker:
        return torch_worker(args)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    for lora in args.loras:
        out = subprocess.run([args.binary, "training", args.model, str(args.seq), str(args.batch), str(lora), str(args.steps)],
                             check=True, capture_output=True, text=True, env=env).stdout
        ours = json.loads(out.strip().splitlines()[-1])
        out = subprocess.run([sys.executable, __file__, "--worker", "--lora", str(lora), "--threads", str(args.threads),
                              "--seq", str(args.seq), "--batch", str(args.batch), "--steps", str(args.steps)],
                             check=True, capture_output=True, text=True, env=env).stdout
        ref = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({"bench": "llama_train_step_" + (f"lora{lora}" if lora else "full"), "seq": args.seq, "batch": args.batch,
                          "threads": args.threads, "ours_s": ours["ours_s"], "ref_s": ref["best_s"],
                          "ours_tokens_per_s": ours["tokens_per_s"], "ref_tokens_per_s": ref["tokens_per_s"],
                          "ratio": ours["tokens_per_s"] / ref["tokens_per_s"],
                          "ours_peak_rss_mib": ours["peak_rss_mib"], "ref_peak_rss_mib": ref["peak_rss_mib"],
                          "memory_ratio": ours["peak_rss_mib"] / ref["peak_rss_mib"],
                          "ours_trainable": ours["trainable"], "ref_trainable": ref["trainable"],
                          "torch": ref["torch"], "transformers": ref["transformers"]}), flush=True)


if __name__ == "__main__":
    main()
