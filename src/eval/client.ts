/**
 * A minimal client for OpenAI-compatible completion servers (vLLM, SGLang, llama.cpp).
 *
 * `POST /v1/completions` and `GET /v1/models`, plus the servers' own `POST /detokenize` (vLLM,
 * for servers that return token ids) and `POST /tokenize` (llama.cpp, to count a stop string's
 * tokens). Requests in flight are bounded by a semaphore; 429, 5xx, timeouts and dropped
 * connections are retried with exponential backoff (`backoffMs · 2^attempt`, or the server's
 * Retry-After when it sends one). Errors that retrying cannot fix (other 4xx, a body that is
 * not JSON, a response without choices) fail at once with an `EvalServerError` that says what
 * the server did. Several replicas are used together through `ServerPool` (./pool.ts).
 */

/** Why a request failed; `kind` lets the CLI choose a message and exit code. */
export class EvalServerError extends Error {
  readonly kind: 'unreachable' | 'http' | 'malformed' | 'timeout' | 'protocol';
  readonly status?: number;
  constructor(kind: EvalServerError['kind'], message: string, status?: number) {
    super(message);
    this.name = 'EvalServerError';
    this.kind = kind;
    this.status = status;
  }
}

/** Body of `POST /v1/completions` (the fields this evaluator sends). */
export interface CompletionRequest {
  model: string;
  prompt: string | number[];
  max_tokens: number;
  temperature: number;
  n?: number;
  stop?: string[];
  logprobs?: number;
  seed?: number;
  top_p?: number;
}

/**
 * `choices[i].logprobs`: the legacy completions layout (vLLM, SGLang: `tokens`, `token_logprobs`,
 * `top_logprobs`, `text_offset`), or the chat layout llama.cpp uses (`content[]` of
 * `{id, token, bytes, logprob, top_logprobs}`). Read by ./formats.ts.
 */
export interface CompletionLogprobs {
  tokens?: unknown[];
  content?: unknown[];
}

export interface CompletionChoice {
  index?: number;
  text: string;
  finish_reason: string | null;
  /** vLLM: the stop string or token id that ended generation (null for end-of-sequence). */
  stop_reason?: string | number | null;
  /** SGLang's name for `stop_reason`. */
  matched_stop?: string | number | null;
  logprobs?: CompletionLogprobs | null;
}

export interface CompletionResponse {
  choices: CompletionChoice[];
  /** Token counts; llama.cpp's `completion_tokens` counts tokens its logprobs leave out. */
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

/** One try at a request: the response, or why it failed and whether a retry may help. */
export type AttemptOutcome =
  | { response: CompletionResponse }
  | { retryable: boolean; kind: EvalServerError['kind']; reason: string; status?: number; retryAfterMs?: number; network?: boolean };

export interface ClientOptions {
  /** Server root or its `/v1` URL, e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Per-attempt limit in milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt (0 = no retry). */
  retries: number;
  /** First backoff delay; doubles per retry. */
  backoffMs: number;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Called before each retry (for logging). */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** Normalises a base URL to its `/v1` root without a trailing slash. */
export function apiRoot(baseUrl: string): string {
  const url = baseUrl.replace(/\/+$/, '');
  return url.endsWith('/v1') ? url : `${url}/v1`;
}

/** Counting semaphore: at most `limit` holders at once, FIFO. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * A signal that aborts when any of `signals` does (like `AbortSignal.any`, which the DOM
 * types of TypeScript 5.0 do not declare).
 */
export function anySignal(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const undo: (() => void)[] = [];
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    undo.push(() => s.removeEventListener('abort', onAbort));
  }
  // Long-lived run signals would otherwise collect one listener per request.
  return { signal: controller.signal, dispose: () => undo.forEach((f) => f()) };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Network error codes that mean "nobody answered" (as opposed to a dropped connection). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function networkErrorCode(e: unknown): string {
  const cause = (e as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? (e as { code?: string })?.code ?? 'network error';
}

export class CompletionsClient {
  readonly root: string;
  /** Attempts sent (first tries and retries) and retries alone, for reports and tests. */
  readonly stats = { attempts: 0, retries: 0 };
  private readonly semaphore: Semaphore;

  constructor(private readonly opts: ClientOptions) {
    this.root = apiRoot(opts.baseUrl);
    this.semaphore = new Semaphore(opts.concurrency);
  }

  /**
   * Checks that the server answers before a run starts, and returns the model ids it lists
   * (empty when it has no `/v1/models`). Never retried: an unreachable server fails at once.
   */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const url = `${this.root}/models`;
    // A check, not a generation: a short --timeout-ms for completions should not fail it.
    const limitMs = Math.max(this.opts.timeoutMs, 10_000);
    const timeout = AbortSignal.timeout(limitMs);
    const combined = anySignal(signal ? [signal, timeout] : [timeout]);
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, { signal: combined.signal });
      body = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const why = timeout.aborted ? `no answer within ${limitMs} ms` : networkErrorCode(e);
      throw new EvalServerError('unreachable', `cannot reach the server at ${url} (${why}); is it running, and is --base-url right?`);
    } finally {
      combined.dispose();
    }
    if (res.status === 404) return [];
    if (!res.ok) throw new EvalServerError('http', `GET ${url} answered HTTP ${res.status}: ${body.slice(0, 300)}`, res.status);
    try {
      const json = JSON.parse(body) as { data?: { id?: unknown }[] };
      return Array.isArray(json.data) ? json.data.map((m) => String(m.id)) : [];
    } catch {
      throw new EvalServerError('malformed', `GET ${url} returned a body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`);
    }
  }

  /** `POST /v1/completions` with retries; resolves to a response with `n` choices. */
  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionResponse> {
    await this.semaphore.acquire();
    try {
      return await this.completeWithRetries(req, signal);
    } finally {
      this.semaphore.release();
    }
  }

  private async completeWithRetries(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionResponse> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      const outcome = await this.attempt(req, signal);
      if ('response' in outcome) return outcome.response;
      if (!outcome.retryable || attempt >= this.opts.retries) {
        const tries = attempt + 1;
        const suffix = outcome.retryable ? ` (gave up after ${tries} attempt${tries > 1 ? 's' : ''}; raise --retries or --timeout-ms)` : '';
        throw new EvalServerError(outcome.kind, `${outcome.reason}${suffix}`, outcome.status);
      }
      const delayMs = outcome.retryAfterMs ?? this.opts.backoffMs * 2 ** attempt;
      this.stats.retries++;
      this.opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: outcome.reason });
      await sleep(delayMs, signal);
    }
  }

  /** One `POST /v1/completions` without retries (the pool retries, possibly on another server). */
  async attempt(req: CompletionRequest, signal?: AbortSignal): Promise<AttemptOutcome> {
    const url = `${this.root}/completions`;
    this.stats.attempts++;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = anySignal(signal ? [signal, timeout] : [timeout]);
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req), signal: combined.signal });
      body = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) return { retryable: true, kind: 'timeout', reason: `POST ${url} timed out after ${this.opts.timeoutMs} ms`, network: true };
      const code = networkErrorCode(e);
      const kind = UNREACHABLE_CODES.has(code) ? 'unreachable' : 'http';
      return { retryable: true, kind, reason: `POST ${url} failed: ${code}`, network: true };
    } finally {
      combined.dispose();
    }
    if (res.status === 429 || res.status >= 500) {
      const retryAfter = Number(res.headers.get('retry-after'));
      return {
        retryable: true,
        kind: 'http',
        status: res.status,
        reason: `POST ${url} answered HTTP ${res.status}: ${body.slice(0, 300)}`,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      };
    }
    if (!res.ok) return { retryable: false, kind: 'http', status: res.status, reason: `POST ${url} answered HTTP ${res.status}: ${body.slice(0, 500)}` };
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { retryable: false, kind: 'malformed', reason: `POST ${url} returned a body that is not JSON: ${JSON.stringify(body.slice(0, 200))}` };
    }
    const choices = (json as { choices?: unknown })?.choices;
    if (!Array.isArray(choices) || choices.length !== (req.n ?? 1) || choices.some((c) => typeof (c as CompletionChoice)?.text !== 'string')) {
      return {
        retryable: false,
        kind: 'malformed',
        reason: `POST ${url} returned JSON without ${req.n ?? 1} choices with "text" (got ${JSON.stringify(json).slice(0, 200)})`,
      };
    }
    // Servers return choices in any order when n > 1; sort by index for reproducible records.
    const sorted = [...(choices as CompletionChoice[])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const usage = (json as CompletionResponse).usage;
    return { response: { choices: sorted, ...(usage && typeof usage === 'object' ? { usage } : {}) } };
  }

  /**
   * `POST` of a JSON body to a path at the server root (not under /v1), once, for the
   * tokenizer endpoints; network failures come back as `{ network: true }` for the pool.
   */
  async postRoot(path: string, body: unknown, signal?: AbortSignal): Promise<{ json: unknown } | { network: true; reason: string }> {
    const url = `${this.root.replace(/\/v1$/, '')}${path}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = anySignal(signal ? [signal, timeout] : [timeout]);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: combined.signal });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      return { network: true, reason: `POST ${url} failed: ${timeout.aborted ? 'timeout' : networkErrorCode(e)}` };
    } finally {
      combined.dispose();
    }
    if (!res.ok) throw new EvalServerError('http', `POST ${url} answered HTTP ${res.status}: ${text.slice(0, 300)}`, res.status);
    try {
      return { json: JSON.parse(text) };
    } catch {
      throw new EvalServerError('malformed', `POST ${url} returned a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
  }
}
