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
    rl       (with --rl DIR) the trainer's RL step: the rollouts `train` sampled (scripts/bench-rl.ts
             records them) decoded again with a KV cache on the sampler's schedule, forced summaries
             forked from the thinking cache at every cut, then the clipped-surrogate update(s) with
             AdamW on the packed minibatches. Each step replays tfjs's tokens (a token is still drawn
             from every row's distribution, then the recorded one is fed), so both sides do the same
             work, and the log-probs of the replayed tokens and each step's loss and gradient norm
             are compared with what `train` computed.

Modes:
    bench_torch.py --probe             the BLAS torch runs on, its threads, a 512² GEMM in GFLOP/s;
                                       exit 0 if the BLAS is an optimised one, 3 if not
    bench_torch.py DIR [--rl RLDIR] [--reps N] [--warmup N] [--threads N] [--memory]

Run it as  OMP_NUM_THREADS=N OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_torch.py ...
(Debian's python3-torch with OpenBLAS: scripts/setup-bench.sh installs both).
Prints one JSON object on stdout (its last line).
"""
import argparse
import base64
import ctypes
import json
import math
import os
import re
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as err:  # the driver reads the JSON line, setup-bench.sh the stderr one
    print(json.dumps({"error": f"cannot import torch and numpy: {err}"}))
    sys.stderr.write(f"bench_torch: cannot import torch and numpy under {sys.executable}: {err}\n")
    sys.exit(2)

PAD, BOS = 0, 1  # src/tasks/types.ts SPECIAL
MASKED = -1e9  # src/model/ops.ts MASKED

# ---------------------------------------------------------------------------------------------
# The BLAS torch runs on


# Implementations that count as an optimised BLAS for the reference. Debian's ATLAS build is
# generic (not tuned to the CPU) and the reference BLAS is a plain Fortran loop nest: both make
# PyTorch several times slower than it is with OpenBLAS, which would flatter tfjs.
OPTIMISED_BLAS = ("openblas", "mkl", "blis")


def _mapped_libraries(pattern):
    """Paths of the shared libraries mapped into this process (Linux /proc/self/maps) whose file
    name matches `pattern`."""
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and re.search(pattern, os.path.basename(fields[-1])):
                    paths.add(fields[-1])
    except OSError:
        pass
    return sorted(paths)


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _sgemm_provider():
    """The file whose `sgemm_` torch's CPU library binds to: the symbol looked up from
    libtorch_cpu (its own definition, else its dependencies'), then `dladdr` names the file
    that defines it. None where this cannot be found out (no libtorch_cpu mapped, no dladdr).
    Only the provider counts: Debian's OpenBLAS LAPACK maps libopenblas into the process even
    when libblas.so.3 is the reference implementation."""
    for path in _mapped_libraries(r"^libtorch_cpu\.so"):
        try:
            addr = ctypes.cast(ctypes.CDLL(path).sgemm_, ctypes.c_void_p).value
            info = _DlInfo()
            libc = ctypes.CDLL(None)
            if not hasattr(libc, "dladdr"):
                libc = ctypes.CDLL("libdl.so.2")
            if addr and libc.dladdr(ctypes.c_void_p(addr), ctypes.byref(info)) and info.dli_fname:
                return os.path.realpath(info.dli_fname.decode())
        except (OSError, AttributeError):
            continue
    return None


def _blas_kind(provider, build_setting):
    name = (provider or "").lower()
    for kind in ("openblas", "mkl", "blis", "atlas"):
        if kind in name:
            return kind
    if re.search(r"libblas\.so", os.path.basename(name)):
        return "reference"  # Debian's netlib BLAS: /usr/lib/<arch>/blas/libblas.so.3
    # sgemm_ defined by torch itself (a statically linked BLAS, as pip wheels link MKL): the
    # build setting names it.
    if build_setting in ("mkl", "open", "openblas", "blis"):
        return {"open": "openblas"}.get(build_setting, build_setting)
    return "unknown"


def blas_info():
    """What torch's matrix products run on, read from the running process.

    The build setting BLAS_INFO is not enough: Debian builds torch against the generic
    libblas.so.3 interface (BLAS_INFO=generic), and which implementation answers it is decided
    at run time by the alternatives system (`update-alternatives --display libblas.so.3-*`).
    So the mapped library decides; the build setting is reported beside it.
    """
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded
    match = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    build = match.group(1) if match else "unknown"
    provider = _sgemm_provider()
    kind = _blas_kind(provider, build)
    info = {
        "kind": kind,
        "optimised": kind in OPTIMISED_BLAS,
        "library": provider,
        "buildSetting": build,
        "torchThreads": torch.get_num_threads(),
    }
    if kind == "openblas":
        for path in _mapped_libraries(r"openblas"):
            if "openblas" in os.path.basename(path):
                try:
                    lib = ctypes.CDLL(path)
                    lib.openblas_get_config.restype = ctypes.c_char_p
                    info["blasThreads"] = int(lib.openblas_get_num_threads())
                    info["blasConfig"] = lib.openblas_get_config().decode().strip()
                    break
                except (OSError, AttributeError):
                    pass
    if not info["optimised"]:
        info["why"] = (
            f"torch's matrix products run on {kind} BLAS (sgemm_ from {provider or 'an unknown library'}; "
            f"build setting BLAS_INFO={build}), not an optimised one ({', '.join(OPTIMISED_BLAS)}): "
            "run `sudo bash scripts/setup-bench.sh` (installs libopenblas0-pthread and selects it)"
        )
    return info


def gemm_probe(n=512, budget_s=0.6):
    """GFLOP/s of a float32 n×n·n×n product (torch.mm, this process's thread settings):
    median and best of timed batches after a warm-up, within about `budget_s` seconds."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    t0 = time.perf_counter()
    torch.mm(a, b, out=out)
    one = max(time.perf_counter() - t0, 1e-6)
    per_batch = max(1, min(20, int(budget_s / 8 / one)))
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            torch.mm(a, b, out=out)
        times.append((time.perf_counter() - t0) / per_batch)
        if sum(times) * per_batch > budget_s and len(times) >= 3:
            break
    flops = 2.0 * n ** 3
    return {"n": n, "medianGflops": flops / statistics.median(times) / 1e9, "bestGflops": flops / min(times) / 1e9}


# ---------------------------------------------------------------------------------------------
# Memory


def reset_peak_rss():
    """Resets the process's RSS high-water mark (VmHWM) to its current RSS (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """VmHWM of this process in MB (since the last reset_peak_rss), or None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"VmHWM:\s+(\d+)\s+kB", f.read())
        return int(m.group(1)) / 1024.0 if m else None
    except OSError:
        return None


def current_rss_mb():
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"VmRSS:\s+(\d+)\s+kB", f.read())
        return int(m.group(1)) / 1024.0 if m else None
    except OSError:
        return None


def peak_rss_of(fn):
    """Peak process RSS (MB) while `fn()` runs (None where the high-water mark cannot be reset)."""
    ok = reset_peak_rss()
    fn()
    return peak_rss_mb() if ok else None


# ---------------------------------------------------------------------------------------------
# The model


def read_params(manifest, path):
    flat = np.fromfile(path, dtype="<f4")
    params = {}
    offset = 0
    for name, shape in manifest["params"]:
        size = int(np.prod(shape))
        params[name] = torch.from_numpy(flat[offset:offset + size].reshape(shape).copy())
        offset += size
    if offset != flat.size:
        sys.exit(f"bench_torch: {path} holds {flat.size} floats, the manifest needs {offset}")
    return params


def load(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    params = read_params(manifest, os.path.join(folder, "params.f32"))
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
        """ids, pos [B, T]; mask additive [B, T, Tk] or None (attend every key).

        With `cache` (per layer (k, v) buffers [B, H, Tmax, D]) the new keys/values are written at
        columns [cache_len, cache_len + T) and attention reads columns [0, cache_len + T), so a
        mask is then [B, T, cache_len + T]. Returns logits [B*T, V] (row-major over (b, t)).
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

    def new_cache(self, rows, columns):
        c = self.config
        H = c["nHeads"]
        D = c["dModel"] // H
        return [(torch.zeros(rows, H, columns, D), torch.zeros(rows, H, columns, D)) for _ in range(c["nLayers"])]


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
    B, P = prompts.shape
    cache = model.new_cache(B, P + new_tokens)
    pos = torch.arange(P).expand(B, P)
    causal = torch.full((P, P), MASKED).triu(1).expand(B, P, P)
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


# ---------------------------------------------------------------------------------------------
# The trainer's RL step (src/train/train.ts), replayed


def _b64(text, dtype):
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def load_rl(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    params = read_params(manifest, os.path.join(folder, "params.f32"))
    steps = []
    for name in manifest["steps"]:
        with open(os.path.join(folder, name)) as f:
            step = json.load(f)
        minibatches = []
        for mb in step["minibatches"]:
            R, T = mb["rows"], mb["length"]
            attend = torch.from_numpy(_b64(mb["attend"], np.uint8).reshape(R, T, T).astype(bool))
            minibatches.append({
                "ids": torch.from_numpy(_b64(mb["ids"], "<i4").reshape(R, T).astype(np.int64)),
                "pos": torch.from_numpy(_b64(mb["pos"], "<i4").reshape(R, T).astype(np.int64)),
                "targets": torch.from_numpy(_b64(mb["targets"], "<i4").astype(np.int64)),
                "attend": attend,
                "oldLogp": torch.from_numpy(_b64(mb["oldLogp"], "<f4").copy()),
                "advantages": torch.from_numpy(_b64(mb["advantages"], "<f4").copy()),
                "weights": torch.from_numpy(_b64(mb["weights"], "<f4").copy()),
            })
        steps.append({"rollouts": step["rollouts"], "minibatches": minibatches})
    return manifest, params, steps


class LogpCheck:
    """Largest |log p(replayed token) − the log-prob tfjs recorded when it sampled it|."""

    def __init__(self):
        self.worst = 0.0
        self.count = 0

    def add(self, got, want):
        if len(want) == 0:
            return
        diff = (got - torch.tensor(want, dtype=torch.float32)).abs().max().item()
        self.worst = max(self.worst, diff if math.isfinite(diff) else math.inf)
        self.count += len(want)


def _draw(logits, temperature, generator):
    """log-softmax at the sampling temperature, and the draw a sampler makes from it (its result
    is then replaced by the recorded token: the draw is kept so that both sides do the same work)."""
    log_probs = torch.log_softmax(logits / temperature if temperature != 1 else logits, dim=-1)
    torch.multinomial(log_probs.exp(), 1, generator=generator)
    return log_probs


@torch.no_grad()
def replay_rollouts(model, rollouts, sampler, generator, check):
    """The sampler of src/model/sampler.ts on the recorded tokens.

    Thinking: prefill [BOS, prompt] left-padded (to `prefixColumns`), then one decoding step per token until the
    longest trace ends (stopped rows are fed padding), keys/values written into a preallocated
    cache. Summaries: per trace, prefix group and sample, a branch row forked from the trunk cache
    at the cut (the prefix keys/values copied, not recomputed), fed the pending thinking token and
    the forcing tokens, then its summary tokens; `maxBranchRows` rows at a time.
    """
    temperature = sampler["temperature"]
    max_seq = model.config["maxSeqLen"]
    B = len(rollouts)
    prefixes = [[BOS] + r["prompt"] for r in rollouts]
    Lp = max(sampler.get("prefixColumns", 0), max(len(p) for p in prefixes))
    pad = [Lp - len(p) for p in prefixes]
    thinking = [r["thinking"] for r in rollouts]
    longest = max(len(t) for t in thinking)
    cache = model.new_cache(B, Lp + longest)
    ids = torch.tensor([[PAD] * pad[b] + prefixes[b] for b in range(B)])
    pos = torch.tensor([[max(0, i - pad[b]) for i in range(Lp)] for b in range(B)])
    prefill_mask = torch.full((B, Lp, Lp), MASKED)
    for b in range(B):
        for i in range(Lp):
            if i < pad[b]:
                prefill_mask[b, i, i] = 0
            else:
                prefill_mask[b, i, pad[b]:i + 1] = 0
    logits = model(ids, pos, prefill_mask, cache, 0).reshape(B, Lp, -1)[:, -1]
    key_mask = torch.zeros(B, 1, Lp + longest)
    for b in range(B):
        key_mask[b, 0, :pad[b]] = MASKED
    for k in range(longest):
        log_probs = _draw(logits, temperature, generator)
        rows = [b for b in range(B) if k < len(thinking[b])]
        tok = torch.tensor([thinking[b][k] if k < len(thinking[b]) else PAD for b in range(B)])
        check.add(log_probs[rows, tok[rows]], [rollouts[b]["thinkingLogp"][k] for b in rows])
        if k == longest - 1:
            break
        step_pos = torch.tensor([[min(len(prefixes[b]) + k, max_seq - 1)] for b in range(B)])
        logits = model(tok[:, None], step_pos, key_mask[:, :, :Lp + k + 1], cache, Lp + k)
    branches = []
    for b, r in enumerate(rollouts):
        for g in r["groups"]:
            # As src/model/sampler.ts: a branch takes from the trunk cache the thinking tokens every
            # trace's trunk holds (all but the trace's last), and feeds the rest with the forcing.
            in_cache = min(g["cutLength"], len(thinking[b]) - 1)
            pending = thinking[b][in_cache:g["cutLength"]] + g["forcing"]
            for s in g["summaries"]:
                branches.append({
                    "row": b, "pad": pad[b], "keyEnd": Lp + in_cache, "startPos": 1 + len(r["prompt"]) + in_cache,
                    "pending": pending, "tokens": s["tokens"], "logp": s["logp"],
                })
    chunk = sampler["maxBranchRows"]
    for start in range(0, len(branches), chunk):
        _replay_branches(model, cache, branches[start:start + chunk], temperature, generator, check)


def _replay_branches(model, trunk, rows, temperature, generator, check):
    R = len(rows)
    max_seq = model.config["maxSeqLen"]
    T0 = max(r["keyEnd"] for r in rows)
    steps = max(len(r["pending"]) + len(r["tokens"]) - 1 for r in rows)
    index = torch.tensor([r["row"] for r in rows])
    cache = model.new_cache(R, T0 + steps)
    for (kc, vc), (tk, tv) in zip(cache, trunk):
        kc[:, :, :T0] = tk[:, :, :T0].index_select(0, index)
        vc[:, :, :T0] = tv[:, :, :T0].index_select(0, index)
    key_mask = torch.zeros(R, 1, T0 + steps)
    for i, r in enumerate(rows):
        key_mask[i, 0, :r["pad"]] = MASKED
        key_mask[i, 0, r["keyEnd"]:T0] = MASKED
    for s in range(steps):
        tok = []
        for r in rows:
            k = s - len(r["pending"])
            tok.append(r["pending"][s] if k < 0 else (r["tokens"][k] if k < len(r["tokens"]) else PAD))
        pos = torch.tensor([[min(r["startPos"] + s, max_seq - 1)] for r in rows])
        logits = model(torch.tensor(tok)[:, None], pos, key_mask[:, :, :T0 + s + 1], cache, T0 + s)
        log_probs = _draw(logits, temperature, generator)
        # Rows that draw a summary token now: token k = s − (pending − 1) of their summary.
        live = [(i, s - len(r["pending"]) + 1) for i, r in enumerate(rows) if 0 <= s - len(r["pending"]) + 1 < len(r["tokens"])]
        if live:
            at = torch.tensor([i for i, _ in live])
            toks = torch.tensor([rows[i]["tokens"][k] for i, k in live])
            check.add(log_probs[at, toks], [rows[i]["logp"][k] for i, k in live])


def rl_update(model, optimizer, mb, hp):
    """One clipped-surrogate update (src/train/loss.ts) with global-norm clipping and AdamW
    (src/train/optim.ts). Returns the loss and the gradient norm before clipping."""
    optimizer.zero_grad(set_to_none=True)
    mask = torch.where(mb["attend"], 0.0, MASKED)
    logits = model(mb["ids"], mb["pos"], mask)
    if hp["temperature"] != 1:
        logits = logits / hp["temperature"]
    logp = torch.log_softmax(logits, dim=-1).gather(1, mb["targets"].unsqueeze(1)).squeeze(1)
    ratio = torch.exp(logp - mb["oldLogp"])
    neg_adv = -mb["advantages"]
    clipped = neg_adv * torch.clamp(ratio, 1 - hp["clipLow"], 1 + hp["clipHigh"])
    loss = (mb["weights"] * torch.maximum(neg_adv * ratio, clipped)).sum()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), hp["gradClip"]).item()
    optimizer.step()
    return loss.item(), norm


def run_rl(folder, reps_limit=None):
    """Replays every recorded step in order (the first `warmupSteps` untimed). Returns timings,
    the per-step loss and gradient norm (compared with train's by the driver), the largest
    log-prob difference of the replayed tokens, and the peak RSS over the timed steps."""
    manifest, params, steps = load_rl(folder)
    hp = manifest["train"]
    model = TinyPolicy(manifest["config"], params)
    optimizer = torch.optim.AdamW(model.parameters(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                                  eps=hp["epsilon"], weight_decay=hp["weightDecay"])
    generator = torch.Generator().manual_seed(0)
    check = LogpCheck()
    warmup = manifest["warmupSteps"]
    times, parity = [], []
    rss_ok = False
    for i, step in enumerate(steps):
        if i == warmup:
            rss_ok = reset_peak_rss()
        t0 = time.perf_counter()
        replay_rollouts(model, step["rollouts"], manifest["sampler"], generator, check)
        loss_sum, norm = 0.0, 0.0
        for mb in step["minibatches"]:
            loss, norm = rl_update(model, optimizer, mb, hp)
            loss_sum += loss
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000.0)
        parity.append({"loss": loss_sum, "gradNorm": norm})
    return {
        "timesMs": times,
        "parity": {"steps": parity, "rolloutLogpMaxDiff": check.worst, "rolloutTokens": check.count},
        "peakRssMB": peak_rss_mb() if rss_ok else None,
    }


# ---------------------------------------------------------------------------------------------


def median_ms(times):
    return statistics.median(times) * 1000.0


def provider_text(info):
    return f"sgemm_ from {info['library']}" if info["library"] else f"build setting BLAS_INFO={info['buildSetting']}"


def probe_main(args):
    torch.set_num_threads(args.threads)
    info = blas_info()
    gemm = gemm_probe()
    out = {"torch": torch.__version__, "blas": info, "gemm": gemm}
    print(json.dumps(out))
    sys.stderr.write(
        f"torch {torch.__version__} on {info['kind']} BLAS ({provider_text(info)}), "
        f"{info['torchThreads']} torch thread(s), 512x512 GEMM {gemm['medianGflops']:.1f} GFLOP/s\n"
    )
    return 0 if info["optimised"] else 3


def tiny_workloads(args, out, memory):
    """The tiny-policy workloads (train, sample, forward): parity values, then timings into `out`."""
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
                             torch.full((prompts.shape[1],) * 2, MASKED).triu(1).expand(prompts.shape[0], -1, -1))
    parity["promptLogitsSum"] = first_logits.double().sum().item()
    out["parity"] = parity

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
    if memory is not None:
        # Before any warm-up, in order of growing footprint; each figure is the process's peak RSS
        # while that workload ran (what was resident before it included).
        for name in ("forward", "sample", "train"):
            memory["peak"][name] = {"peakRssMB": peak_rss_of(work[name])}
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
    out["medianMs"].update({k: median_ms(v) for k, v in times.items()})
    out["timesMs"].update({k: [t * 1000.0 for t in v] for k, v in times.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", help="inputs written by scripts/bench.ts")
    ap.add_argument("--probe", action="store_true", help="report the BLAS and a GEMM probe, then exit (0: optimised BLAS, 3: not)")
    ap.add_argument("--rl", metavar="DIR", help="also time the RL step recorded in DIR by scripts/bench-rl.ts")
    ap.add_argument("--reps", type=int, default=5, help="timed repeats of each workload (default 5)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed repeats first (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--memory", action="store_true", help="measure each workload's peak RSS in one untimed run first")
    args = ap.parse_args()
    if args.reps < 1 or args.warmup < 0 or args.threads < 1:
        sys.exit("bench_torch: --reps and --threads must be >= 1, --warmup >= 0")
    if args.probe:
        return probe_main(args)
    if not args.folder and not args.rl:
        sys.exit("bench_torch: give the inputs folder, --rl DIR, or --probe")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "blas": blas_info(),
        "reps": args.reps,
        "warmup": args.warmup,
        "medianMs": {},
        "timesMs": {},
    }
    memory = {"rssAtStartMB": current_rss_mb(), "peak": {}} if args.memory else None
    if args.folder:
        tiny_workloads(args, out, memory)
    if args.rl:
        rl = run_rl(args.rl)
        out["timesMs"]["rl"] = rl["timesMs"]
        out["medianMs"]["rl"] = statistics.median(rl["timesMs"]) if rl["timesMs"] else None
        out["rlParity"] = rl["parity"]
        if memory is not None:
            memory["peak"]["rl"] = {"peakRssMB": rl["peakRssMB"]}
    if memory is not None:
        out["memory"] = memory
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
