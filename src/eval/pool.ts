/**
 * Several replicas of one model (e.g. vLLM data-parallel servers on several machines) used as
 * one: each request goes to the live server with the fewest requests in flight, at most
 * `concurrency` per server. A request whose server stops answering (connection refused or
 * dropped, or no answer within the timeout) is sent again to another server at once; the dead
 * server rests for `backoffMs · 2^failures` before it is tried again, so a restarted server
 * rejoins. 429 and 5xx answers are retried after the usual backoff. Every request carries its
 * own seed, so which replica answers does not change the result.
 */
import { CompletionsClient, EvalServerError, sleep, type ClientOptions, type CompletionRequest, type CompletionResponse } from './client.js';
import type { TokenizerCalls } from './trace.js';

/** What the runner needs from the servers. */
export interface Completer {
  complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionResponse>;
  /** Attempts sent (first tries and retries) and retries alone. */
  readonly stats: { attempts: number; retries: number };
  /** Tokenizer endpoints, for responses that need them (see ./trace.ts). */
  readonly calls?: TokenizerCalls;
}

interface Server {
  client: CompletionsClient;
  url: string;
  active: number;
  /** Not used before this time (ms, `Date.now()`); 0 when live. */
  downUntil: number;
  /** Consecutive failures to answer. */
  failures: number;
}

export interface PoolOptions extends Omit<ClientOptions, 'baseUrl' | 'onRetry'> {
  baseUrls: string[];
  /** Called before each retry; `server` is where the failed attempt went. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; server: string }) => void;
  /** Called when a server stops answering. */
  onServerDown?: (info: { server: string; reason: string; restMs: number }) => void;
}

export class ServerPool implements Completer {
  readonly stats = { attempts: 0, retries: 0 };
  readonly calls: TokenizerCalls;
  private readonly servers: Server[];
  private readonly waiting: (() => void)[] = [];
  private stopTokens = new Map<string, Promise<number>>();

  constructor(private readonly opts: PoolOptions) {
    if (opts.baseUrls.length === 0) throw new EvalServerError('unreachable', 'no server URL given');
    this.servers = opts.baseUrls.map((url) => ({
      client: new CompletionsClient({ timeoutMs: opts.timeoutMs, retries: 0, backoffMs: opts.backoffMs, concurrency: opts.concurrency, baseUrl: url }),
      url,
      active: 0,
      downUntil: 0,
      failures: 0,
    }));
    this.calls = {
      detokenize: (ids, signal) => this.detokenize(ids, signal),
      stopTokenCount: (text, signal) => this.stopTokenCount(text, signal),
    };
  }

  /** The servers' roots (`…/v1`). */
  get roots(): string[] {
    return this.servers.map((s) => s.client.root);
  }

  /**
   * Asks every server for its models before the run. Unreachable servers are set aside (the
   * run goes on without them, and retries them later); if none answers, this throws.
   */
  async listModels(signal?: AbortSignal): Promise<{ models: string[]; down: { url: string; reason: string }[] }> {
    const results = await Promise.allSettled(this.servers.map((s) => s.client.listModels(signal)));
    const down: { url: string; reason: string }[] = [];
    const models = new Set<string>();
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') r.value.forEach((m) => models.add(m));
      else {
        if (signal?.aborted) throw signal.reason;
        if (!(r.reason instanceof EvalServerError)) throw r.reason;
        down.push({ url: this.servers[i].url, reason: r.reason.message });
        this.markDown(this.servers[i], r.reason.message);
      }
    });
    if (down.length === this.servers.length) {
      const first = results[0] as PromiseRejectedResult;
      throw first.reason;
    }
    return { models: [...models], down };
  }

  /** Sets a server aside for `backoffMs · 2^failures`; returns that rest. */
  private markDown(s: Server, reason: string): number {
    const restMs = this.opts.backoffMs * 2 ** s.failures;
    s.failures++;
    s.downUntil = Date.now() + restMs;
    if (this.servers.length > 1) this.opts.onServerDown?.({ server: s.url, reason, restMs });
    return restMs;
  }

  /** A server with a free slot: live ones first (fewest in flight), else the one back soonest. */
  private async acquire(signal?: AbortSignal): Promise<Server> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const now = Date.now();
      const free = this.servers.filter((s) => s.active < this.opts.concurrency);
      const live = free.filter((s) => s.downUntil <= now);
      if (live.length > 0) {
        const s = live.reduce((a, b) => (b.active < a.active ? b : a));
        s.active++;
        return s;
      }
      const anyLive = this.servers.some((s) => s.downUntil <= now);
      if (!anyLive) {
        // Every server is resting: wait for the first to be due (or for a slot to free up).
        const soonest = Math.min(...this.servers.map((s) => s.downUntil));
        await Promise.race([sleep(Math.max(0, soonest - now), signal), new Promise<void>((r) => this.waiting.push(r))]);
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  private release(s: Server): void {
    s.active--;
    const waiters = this.waiting.splice(0);
    for (const w of waiters) w();
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionResponse> {
    let s: Server | null = await this.acquire(signal);
    try {
      for (let attempt = 0; ; attempt++) {
        this.stats.attempts++;
        const outcome = await s.client.attempt(req, signal);
        if ('response' in outcome) {
          s.failures = 0;
          return outcome.response;
        }
        const restMs = outcome.network ? this.markDown(s, outcome.reason) : 0;
        if (!outcome.retryable || attempt >= this.opts.retries) {
          const tries = attempt + 1;
          const suffix = outcome.retryable ? ` (gave up after ${tries} attempt${tries > 1 ? 's' : ''}; raise --retries or --timeout-ms)` : '';
          throw new EvalServerError(outcome.kind, `${outcome.reason}${suffix}`, outcome.status);
        }
        this.stats.retries++;
        if (outcome.network) {
          // The server stopped answering: it rests, and another live one takes the request at
          // once (or the request waits in `acquire` until the first server is due again).
          const elsewhere = this.servers.some((o) => o !== s && o.downUntil <= Date.now());
          this.opts.onRetry?.({ attempt: attempt + 1, delayMs: elsewhere ? 0 : restMs, reason: outcome.reason, server: s.url });
          this.release(s);
          s = null;
          if (!elsewhere) await sleep(restMs, signal);
          s = await this.acquire(signal);
          continue;
        }
        // 429 / 5xx: the server is alive but busy; keep the slot and back off.
        const delayMs = outcome.retryAfterMs ?? this.opts.backoffMs * 2 ** attempt;
        this.opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: outcome.reason, server: s.url });
        await sleep(delayMs, signal);
      }
    } finally {
      if (s) this.release(s);
    }
  }

  /** A tokenizer call on any live server (failing over like `complete`). */
  private async onAnyServer<T>(what: string, call: (c: CompletionsClient) => Promise<{ json: unknown } | { network: true; reason: string }>, read: (json: unknown) => T | undefined, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const s = await this.acquire(signal);
      let r;
      try {
        r = await call(s.client);
      } finally {
        this.release(s);
      }
      if ('json' in r) {
        const value = read(r.json);
        if (value === undefined) throw new EvalServerError('malformed', `${what} on ${s.url} returned ${JSON.stringify(r.json).slice(0, 200)}`);
        return value;
      }
      this.markDown(s, r.reason);
      if (attempt >= this.opts.retries) throw new EvalServerError('unreachable', `${what}: ${r.reason}`);
    }
  }

  /** vLLM `POST /detokenize` `{model, tokens}` → `{prompt}`. */
  detokenize(ids: number[], signal?: AbortSignal): Promise<string> {
    return this.onAnyServer(
      'POST /detokenize',
      (c) => c.postRoot('/detokenize', { model: this.model, tokens: ids }, signal),
      (json) => {
        const j = json as { prompt?: unknown; content?: unknown };
        return typeof j.prompt === 'string' ? j.prompt : typeof j.content === 'string' ? j.content : undefined;
      },
      signal,
    );
  }

  /**
   * Tokens of `text` tokenized alone, as llama.cpp does when it drops a stop string's tokens
   * (`POST /tokenize` with `add_special` and `parse_special` false). Asked once per text.
   */
  stopTokenCount(text: string, signal?: AbortSignal): Promise<number> {
    let p = this.stopTokens.get(text);
    if (!p) {
      p = this.onAnyServer(
        'POST /tokenize',
        (c) => c.postRoot('/tokenize', { content: text, add_special: false, parse_special: false }, signal),
        (json) => {
          const tokens = (json as { tokens?: unknown }).tokens;
          return Array.isArray(tokens) && tokens.length > 0 ? tokens.length : undefined;
        },
        signal,
      );
      p.catch(() => this.stopTokens.delete(text));
      this.stopTokens.set(text, p);
    }
    return p;
  }

  /** Model name sent with tokenizer calls (vLLM checks it). */
  model: string | undefined;
}
