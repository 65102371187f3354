#!/usr/bin/env python3
"""PyTorch CPU reference of the tiny policy, for `npm run bench` (scripts/bench.ts).

Same model as src/model/transformer.ts (pre-LN GPT-2 block, learned token + position
embeddings, separate q/k/v/o projections with biases, quick-GELU MLP, final LayerNorm,
untied head with bias; every linear layer is x·W + b with W stored [in, out]), same initial
weights, same batch and same loss, read from the folder scripts/bench.ts writes:

    manifest.json   config, parameter names/shapes, batch shapes, loss settings
    params.f32      every parameter, concatenated in manifest order (float32, little endian)
    mask.f32        additive attention mask [rows, T, T] of the training batch
    ids.i32 pos.i32 targets.i32   training batch [rows, T]
    weights.f32     per-column loss weight [rows * T]
    prompts.i32     sampling prefixes [B, P]

Timed work (median of repeats after warm-up, milliseconds):
    train    forward + log-softmax token log-probs and entropies + scalar loss + backward + Adam
    sample   KV-cache sampling of `newTokens` tokens for B rows (prefill, then one token per step)
    forward  the training forward to token log-probs, no gradient

Run it as  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_torch.py DIR [--reps N]
(Debian's python3-torch; without OPENBLAS_NUM_THREADS=1 OpenBLAS oversubscribes the cores).
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    flat = np.fromfile(os.path.join(folder, "params.f32"), dtype="<f4")
    params = {}
    offset = 0
    for name, shape in manifest["params"]:
        size = int(np.prod(shape))
        params[name] = torch.from_numpy(flat[offset:offset + size].reshape(shape).copy())
        offset += size
    if offset != flat.size:
        sys.exit(f"bench_torch: params.f32 holds {flat.size} floats, manifest needs {offset}")
    rows, length = manifest["batch"]["rows"], manifest["batch"]["length"]

    def read(name, dtype, shape):
        return torch.from_numpy(np.fromfile(os.path.join(folder, name), dtype=dtype).reshape(shape).copy())

    batch = {
        "ids": read("ids.i32", "<i4", (rows, length)).long(),
        "pos": read("pos.i32", "<i4", (rows, length)).long(),
        "targets": read("targets.i32", "<i4", (rows * length,)).long(),
        "weights": read("weights.f32", "<f4", (rows * length,)),
        "mask": read("mask.f32", "<f4", (rows, length, length)),
    }
    sampling = manifest["sampling"]
    prompts = read("prompts.i32", "<i4", (sampling["rows"], sampling["promptLength"])).long()
    return manifest, params, batch, prompts


class TinyPolicy(torch.nn.Module):
    """The transformer of src/model/transformer.ts; parameter names as there, '.' -> '__'."""

    def __init__(self, config, weights):
        super().__init__()
        self.config = config
        for name, value in weights.items():
            self.register_parameter(name.replace(".", "__"), torch.nn.Parameter(value.clone()))

    def p(self, name):
        return getattr(self, name.replace(".", "__"))

    def forward(self, ids, pos, mask, cache=None, cache_len=0):
        """ids, pos [B, T]; mask additive [B, T, Tk] or None (attend every cached key).

        With `cache` (per layer (k, v) buffers [B, H, Tmax, D]) the new keys/values are written at
        columns [cache_len, cache_len + T) and attention reads columns [0, cache_len + T).
        Returns logits [B*T, V] (row-major over (b, t)).
        """
        c = self.config
        d, H = c["dModel"], c["nHeads"]
        D = d // H
        B, T = ids.shape
        x = (F.embedding(ids, self.p("tok_emb")) + F.embedding(pos, self.p("pos_emb"))).reshape(B * T, d)

        def dense(h, w, b):
            return torch.addmm(self.p(b), h, self.p(w))

        def heads(t):
            return t.reshape(B, T, H, D).transpose(1, 2)

        scale = 1.0 / (D ** 0.5)
        for layer in range(c["nLayers"]):
            pre = f"h{layer}."
            h = F.layer_norm(x, (d,), self.p(pre + "ln1.g"), self.p(pre + "ln1.b"), 1e-5)
            q = heads(dense(h, pre + "attn.wq", pre + "attn.bq"))
            k = heads(dense(h, pre + "attn.wk", pre + "attn.bk"))
            v = heads(dense(h, pre + "attn.wv", pre + "attn.bv"))
            if cache is not None:
                kc, vc = cache[layer]
                kc[:, :, cache_len:cache_len + T] = k
                vc[:, :, cache_len:cache_len + T] = v
                k = kc[:, :, :cache_len + T]
                v = vc[:, :, :cache_len + T]
            scores = torch.matmul(q, k.transpose(-1, -2)) * scale
            if mask is not None:
                scores = scores + mask.unsqueeze(1)
            a = torch.matmul(torch.softmax(scores, dim=-1), v)
            a = a.transpose(1, 2).reshape(B * T, d)
            x = x + dense(a, pre + "attn.wo", pre + "attn.bo")
            h2 = F.layer_norm(x, (d,), self.p(pre + "ln2.g"), self.p(pre + "ln2.b"), 1e-5)
            hidden = dense(h2, pre + "mlp.w1", pre + "mlp.b1")
            hidden = hidden * torch.sigmoid(1.702 * hidden)
            x = x + dense(hidden, pre + "mlp.w2", pre + "mlp.b2")
        hf = F.layer_norm(x, (d,), self.p("lnf.g"), self.p("lnf.b"), 1e-5)
        if c["tiedHead"]:
            return hf @ self.p("tok_emb").t()
        return dense(hf, "head.w", "head.b")


def token_log_probs(logits, targets):
    log_probs = torch.log_softmax(logits, dim=-1)
    logp = log_probs.gather(1, targets.unsqueeze(1)).squeeze(1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return logp, entropy


def loss_of(model, batch, entropy_coef):
    logits = model(batch["ids"], batch["pos"], batch["mask"])
    logp, entropy = token_log_probs(logits, batch["targets"])
    w = batch["weights"]
    total = w.sum()
    return -(w * logp).sum() / total - entropy_coef * (w * entropy).sum() / total


@torch.no_grad()
def sample(model, prompts, new_tokens, generator):
    """KV-cache sampling: prefill the prompts, then draw `new_tokens` tokens per row at temperature 1."""
    c = model.config
    B, P = prompts.shape
    H = c["nHeads"]
    D = c["dModel"] // H
    total = P + new_tokens
    cache = [(torch.empty(B, H, total, D), torch.empty(B, H, total, D)) for _ in range(c["nLayers"])]
    pos = torch.arange(P).expand(B, P)
    causal = torch.full((P, P), -1e9).triu(1).expand(B, P, P)
    logits = model(prompts, pos, causal, cache, 0).reshape(B, P, -1)[:, -1]
    tokens = torch.empty(B, new_tokens, dtype=torch.long)
    logps = torch.empty(B, new_tokens)
    fed = P
    for i in range(new_tokens):
        log_probs = torch.log_softmax(logits, dim=-1)
        tok = torch.multinomial(log_probs.exp(), 1, generator=generator)
        tokens[:, i] = tok[:, 0]
        logps[:, i] = log_probs.gather(1, tok)[:, 0]
        if i + 1 == new_tokens:
            break
        logits = model(tok, torch.full((B, 1), fed, dtype=torch.long), None, cache, fed)
        fed += 1
    return tokens, logps


def median_ms(times):
    return statistics.median(times) * 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="inputs written by scripts/bench.ts")
    ap.add_argument("--reps", type=int, default=5, help="timed repeats of each workload (default 5)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed repeats first (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    args = ap.parse_args()
    if args.reps < 1 or args.warmup < 0 or args.threads < 1:
        sys.exit("bench_torch: --reps and --threads must be >= 1, --warmup >= 0")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    manifest, params, batch, prompts = load(args.folder)
    loss_cfg = manifest["loss"]
    sampling = manifest["sampling"]

    # Parity: loss and global gradient norm at the initial weights (compared with tfjs by the driver).
    model = TinyPolicy(manifest["config"], params)
    loss = loss_of(model, batch, loss_cfg["entropyCoef"])
    loss.backward()
    grad_norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters())).item()
    parity = {"loss": loss.item(), "gradNorm": grad_norm}
    with torch.no_grad():
        first_logits = model(prompts[:, :], torch.arange(prompts.shape[1]).expand_as(prompts),
                             torch.full((prompts.shape[1],) * 2, -1e9).triu(1).expand(prompts.shape[0], -1, -1))
    parity["promptLogitsSum"] = first_logits.double().sum().item()

    model = TinyPolicy(manifest["config"], params)
    opt = torch.optim.Adam(model.parameters(), lr=loss_cfg["learningRate"])

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of(model, batch, loss_cfg["entropyCoef"])
        loss.backward()
        opt.step()
        return loss.item()

    generator = torch.Generator().manual_seed(0)

    def sample_once():
        sample(model, prompts, sampling["newTokens"], generator)

    def forward_once():
        with torch.no_grad():
            logits = model(batch["ids"], batch["pos"], batch["mask"])
            logp, _ = token_log_probs(logits, batch["targets"])
            logp.sum().item()

    work = {"train": train_step, "sample": sample_once, "forward": forward_once}
    times = {k: [] for k in work}
    for _ in range(args.warmup):
        for fn in work.values():
            fn()
    # Interleaved: load from other processes hits every workload alike.
    for _ in range(args.reps):
        for name, fn in work.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "reps": args.reps,
        "warmup": args.warmup,
        "medianMs": {k: median_ms(v) for k, v in times.items()},
        "timesMs": {k: [t * 1000.0 for t in v] for k, v in times.items()},
        "parity": parity,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
