/**
 * A small deterministic "reasoning model" behind an OpenAI-compatible /v1/completions, for the
 * eval tests, answering in the exact layouts of real servers. The model's output is a list of
 * byte-level tokens (a token may hold part of a UTF-8 character); the server logic that turns
 * it into a response follows the servers' source:
 *
 * - `vllm` (vllm/v1/engine/detokenizer.py, vllm/v1/engine/logprobs.py `_verify_tokens`,
 *   vllm/entrypoints/openai/completion/serving.py `_create_completion_logprobs`): `text` is the
 *   complete characters so far, cut where a stop string begins (stop strings are checked on the
 *   text after each token); the end-of-sequence token ends generation without entering the
 *   text; `logprobs.tokens` lists every generated token decoded alone (U+FFFD for partial
 *   bytes), except that a token whose decoding ends in U+FFFD is replaced by the decoding of the
 *   previous and this token, or by "" when that still ends in U+FFFD; `stop_reason` is the stop
 *   string or null; `text_offset` accumulates token lengths.
 * - `vllm-legacy`: as `vllm` but without the U+FFFD correction (older releases).
 * - `vllm-ids`: as `vllm` with `--return-tokens-as-token-ids` (`token_id:NNN`), plus
 *   `POST /detokenize`.
 * - `llama.cpp` (tools/server/server-context.cpp `process_token`, `send_final_response`;
 *   tools/server/server-task.cpp `probs_vector_to_json`, `to_json_oaicompat`): a token that
 *   leaves the text ending inside a character gets no entry; text that may begin a stop string
 *   is held (the entry is sent as "") and sent with a later entry; a stop string cuts the text
 *   and drops as many trailing entries as the stop string has tokens alone; end-of-sequence is
 *   an entry with "" (special tokens are not rendered); `finish_reason` "stop" for both;
 *   `usage.completion_tokens` counts every token; `POST /tokenize`.
 *
 * Each problem (named P1..Pn in the prompt) has a known output. A summary answers
 * `\boxed{gold}` iff the thinking prefix in its prompt contains ` so=<gold>`, else `\boxed{0}`;
 * `wrongChoices` can make a choice wrong as a function of its index and the request's seed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ServerFormatName = 'vllm' | 'vllm-legacy' | 'vllm-ids' | 'llama.cpp';
export const FORMATS: ServerFormatName[] = ['vllm', 'vllm-legacy', 'vllm-ids', 'llama.cpp'];

/** A token: its text, or raw bytes (e.g. part of a character). */
export type TokenSpec = string | number[];

export interface FakeTrace {
  /** Thinking tokens (without the end-of-thinking). */
  tokens: TokenSpec[];
  /**
   * After the thinking: 'think-end' writes the end-of-thinking tokens, an answer, then EOS;
   * 'eos' ends with EOS without closing the thinking; 'none' keeps thinking (filler tokens).
   */
  ending: 'think-end' | 'eos' | 'none';
  /** Tokens that spell the end-of-thinking (default one special token `</think>`). */
  thinkEndTokens?: string[];
  /** Summary choice `index` under request seed `seed` answers wrong (tests averaging over A and seeds). */
  wrongChoices?: (index: number, seed: number | null) => boolean;
  /** vLLM layouts: render token strings as raw vocabulary entries ("Ġx"), as some releases did. */
  rawVocabularyStrings?: boolean;
}

/** Trace of n tokens ` w1 … wn` with the answer token at 1-based position `at` (if any). */
export function trace(n: number, finishes: boolean, answerAt?: { at: number; answer: string }): FakeTrace {
  const tokens = Array.from({ length: n }, (_, i) => (answerAt && i + 1 === answerAt.at ? ` so=${answerAt.answer}` : ` w${i + 1}`));
  return { tokens, ending: finishes ? 'think-end' : 'none' };
}

/** Bytes of `s` cut into pieces of the given byte lengths (to split characters across tokens). */
export function splitBytes(s: string, lengths: number[]): number[][] {
  const b = [...new TextEncoder().encode(s)];
  const out: number[][] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(b.slice(at, at + n));
    at += n;
  }
  if (at !== b.length) throw new Error(`splitBytes: lengths cover ${at} of ${b.length} bytes`);
  return out;
}

export type Fault = 'ok' | 429 | 500 | 'malformed' | 'no-logprobs' | 'hang';

export interface FakeServerOptions {
  traces: Record<string, FakeTrace>;
  format?: ServerFormatName;
  /** llama.cpp: whether entry i's `top_logprobs` holds the sampled token (so its own bytes are known). Default: yes. */
  topIsSampled?: (i: number) => boolean;
  /** Tokens llama.cpp's tokenizer gives a stop string alone (default 1: `</think>` is one token). */
  stopTokenCount?: number;
  /** Decide a fault for the i-th POST /v1/completions (0-based). */
  fault?: (i: number, body: Record<string, unknown>) => Fault;
  /** Delay before each answer, in ms (to make a run slow enough to kill mid-way). */
  delayMs?: number;
  /** Called for each POST after it is recorded. */
  onRequest?: (body: Record<string, unknown>, kind: 'thinking' | 'summary') => void;
  /** Fixed port (to restart a server on the same address). */
  port?: number;
}

export interface FakeServer {
  url: string;
  port: number;
  /** Every completion POST body, in arrival order, with its kind and arrival time. */
  requests: { body: Record<string, unknown>; kind: 'thinking' | 'summary'; at: number }[];
  /** Completion requests answered with 200 (the others failed or were cut off). */
  answered: number;
  /** Tokenizer calls (`/detokenize`, `/tokenize`). */
  tokenizerCalls: string[];
  close(): Promise<void>;
}

// ---- the toy vocabulary: id 0 = EOS, 1 = `</think>`, others assigned on first use ----

const EOS_ID = 0;
const THINK_END_ID = 1;
const EOS_TEXT = '<｜end▁of▁sentence｜>';

class Vocab {
  private readonly byKey = new Map<string, number>();
  readonly bytes: Uint8Array[] = [new TextEncoder().encode(EOS_TEXT), new TextEncoder().encode('</think>')];
  id(spec: TokenSpec): number {
    const b = typeof spec === 'string' ? new TextEncoder().encode(spec) : Uint8Array.from(spec);
    const key = [...b].join(',');
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.bytes.length;
      this.bytes.push(b);
      this.byKey.set(key, id);
    }
    return id;
  }
}

const decodeLossy = (b: Uint8Array) => new TextDecoder().decode(b);
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** Bytes of the longest prefix that is whole characters. */
function validPrefix(b: Uint8Array): Uint8Array {
  for (let n = b.length; n >= 0; n--) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, n));
      return b.subarray(0, n);
    } catch {
      /* shorter */
    }
  }
  return new Uint8Array();
}
const isComplete = (b: Uint8Array) => validPrefix(b).length === b.length;

/** The model's output token ids for a trace (thinking, end, answer), long enough for any cap. */
function outputIds(vocab: Vocab, t: FakeTrace, cap: number): number[] {
  const ids = t.tokens.map((x) => vocab.id(x));
  if (t.ending === 'think-end') {
    for (const x of t.thinkEndTokens ?? ['</think>']) ids.push(x === '</think>' && !t.thinkEndTokens ? THINK_END_ID : vocab.id(x));
    ids.push(vocab.id('\n\nThe answer.'), EOS_ID);
  } else if (t.ending === 'eos') ids.push(EOS_ID);
  else while (ids.length < cap) ids.push(vocab.id(' z'));
  return ids.slice(0, cap);
}

/** vLLM's non-streaming choice for generated ids (see the module comment). */
function vllmChoice(vocab: Vocab, ids: number[], maxTokens: number, stops: string[], mode: 'vllm' | 'vllm-legacy' | 'vllm-ids') {
  const generated: number[] = [];
  let text = '';
  let finish: 'stop' | 'length' = 'length';
  let stopReason: string | null = null;
  const stream = new TextDecoder(); // streaming: only whole characters come out, like vLLM's detokenizer
  for (const id of ids) {
    generated.push(id);
    if (id === EOS_ID) {
      finish = 'stop';
      break;
    }
    const before = text.length;
    text += stream.decode(vocab.bytes[id], { stream: true });
    const from = Math.max(0, before - Math.max(0, ...stops.map((x) => x.length)));
    const hits = stops.map((x) => ({ s: x, at: text.indexOf(x, from) })).filter((h) => h.at >= 0);
    if (hits.length > 0) {
      const first = hits.reduce((a, b) => (b.at < a.at ? b : a));
      text = text.slice(0, first.at);
      finish = 'stop';
      stopReason = first.s;
      break;
    }
    if (generated.length >= maxTokens) break;
  }
  const tokens = generated.map((id, k) => {
    if (mode === 'vllm-ids') return `token_id:${id}`;
    const alone = decodeLossy(vocab.bytes[id]);
    if (mode === 'vllm-legacy' || !alone.endsWith('\uFFFD')) return alone;
    if (k > 0) {
      const pair = decodeLossy(concat([vocab.bytes[generated[k - 1]], vocab.bytes[id]]));
      if (!pair.endsWith('\uFFFD')) return pair;
    }
    return '';
  });
  const offsets: number[] = [];
  tokens.reduce((at, t) => (offsets.push(at), at + t.length), 0);
  return {
    choice: {
      index: 0,
      text,
      logprobs: { text_offset: offsets, token_logprobs: tokens.map(() => -0.1), tokens, top_logprobs: tokens.map((t) => ({ [t]: -0.1 })) },
      finish_reason: finish,
      stop_reason: stopReason,
    },
    completionTokens: generated.length,
  };
}

/** llama.cpp's non-streaming OAI completion choice for generated ids (see the module comment). */
function llamaChoice(vocab: Vocab, ids: number[], maxTokens: number, stops: string[], stopTokenCount: number, topIsSampled: (i: number) => boolean) {
  let generatedText: number[] = [];
  let nSent = 0;
  let nDecoded = 0;
  let stopType: 'none' | 'eos' | 'word' | 'limit' = 'none';
  const probs: { id: number; sent: Uint8Array }[] = [];
  const dec = new TextDecoder();
  for (const id of ids) {
    nDecoded++;
    const isEog = id === EOS_ID;
    const piece = isEog ? new Uint8Array() : vocab.bytes[id];
    for (const x of piece) generatedText.push(x);
    let hasNext = true;
    // Whole characters only: a token that leaves the text inside a character is not added.
    if (isComplete(Uint8Array.from(generatedText.slice(Math.min(nSent, generatedText.length))))) {
      let pos = Math.min(nSent, generatedText.length);
      const strTest = dec.decode(Uint8Array.from(generatedText.slice(pos)));
      let sendText = true;
      // full stop: search near the end of the unsent text
      let stopPos = -1;
      for (const w of stops) {
        const from = Math.max(0, strTest.length - (w.length + dec.decode(piece).length));
        const p = strTest.indexOf(w, from);
        if (p >= 0 && (stopPos < 0 || p < stopPos)) stopPos = p;
      }
      if (stopPos >= 0) {
        stopType = 'word';
        hasNext = false;
        const keep = new TextEncoder().encode(strTest.slice(0, stopPos)).length;
        generatedText = generatedText.slice(0, pos + keep);
        pos = Math.min(nSent, generatedText.length);
      } else if (!isEog) {
        // partial stop: the unsent text ends with a prefix of a stop string
        const partial = stops.some((w) => Array.from({ length: w.length - 1 }, (_, k) => w.slice(0, k + 1)).some((q) => strTest.endsWith(q)));
        sendText = !partial;
      }
      const toSend = sendText ? Uint8Array.from(generatedText.slice(pos)) : new Uint8Array();
      nSent += toSend.length;
      probs.push({ id, sent: toSend });
    }
    if (hasNext && nDecoded >= maxTokens) {
      stopType = 'limit';
      hasNext = false;
    }
    if (isEog) {
      stopType = 'eos';
      hasNext = false;
    }
    if (!hasNext) break;
  }
  const kept = stopType === 'word' ? probs.slice(0, probs.length - Math.min(probs.length, stopTokenCount)) : probs;
  const content = kept.map((p, i) => {
    const topId = topIsSampled(i) ? p.id : 999_999;
    const topBytes = topId === p.id ? (p.id === EOS_ID ? new Uint8Array() : vocab.bytes[p.id]) : new TextEncoder().encode('?');
    return {
      id: p.id,
      token: dec.decode(validPrefix(p.sent)),
      bytes: [...p.sent],
      logprob: -0.1,
      top_logprobs: [{ id: topId, token: dec.decode(validPrefix(topBytes)), bytes: [...topBytes], logprob: -0.1 }],
    };
  });
  return {
    choice: {
      text: decodeLossy(Uint8Array.from(generatedText)),
      index: 0,
      logprobs: content.length > 0 ? { content } : null,
      finish_reason: stopType === 'word' || stopType === 'eos' ? 'stop' : 'length',
    },
    completionTokens: nDecoded,
  };
}

/**
 * One thinking response of the given layout for `trace` (the server logic above, without HTTP),
 * with the tokenizer calls that server would answer.
 */
export function emulateThinking(
  format: ServerFormatName,
  t: FakeTrace,
  maxTokens: number,
  opts: { stops?: string[]; stopTokenCount?: number; topIsSampled?: (i: number) => boolean } = {},
): { response: { choices: unknown[]; usage: { completion_tokens: number } }; calls: { detokenize(ids: number[]): Promise<string>; stopTokenCount(text: string): Promise<number> } } {
  const vocab = new Vocab();
  const ids = outputIds(vocab, t, maxTokens + 8);
  const stops = opts.stops ?? ['</think>'];
  const r =
    format === 'llama.cpp'
      ? llamaChoice(vocab, ids, maxTokens, stops, opts.stopTokenCount ?? 1, opts.topIsSampled ?? (() => true))
      : vllmChoice(vocab, ids, maxTokens, stops, format);
  return {
    response: { choices: [r.choice], usage: { completion_tokens: r.completionTokens } },
    calls: {
      detokenize: async (list) => decodeLossy(concat(list.filter((id) => id !== EOS_ID).map((id) => vocab.bytes[id]))),
      stopTokenCount: async (text) => (text === '</think>' ? (opts.stopTokenCount ?? 1) : new TextEncoder().encode(text).length),
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
}

const PROBLEM = /(?:<｜User｜>|<\|im_start\|>user\n)(P\d+)\n/;

export async function startFakeServer(opts: FakeServerOptions): Promise<FakeServer> {
  const format = opts.format ?? 'vllm';
  const vocab = new Vocab();
  const requests: FakeServer['requests'] = [];
  const tokenizerCalls: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'fake-r1' }] });
    if (req.method === 'POST' && req.url === '/detokenize' && format === 'vllm-ids') {
      const body = JSON.parse(await readBody(req)) as { tokens: number[] };
      tokenizerCalls.push('detokenize');
      return json(res, 200, { prompt: decodeLossy(concat(body.tokens.filter((id) => id !== EOS_ID).map((id) => vocab.bytes[id]))) });
    }
    if (req.method === 'POST' && req.url === '/tokenize' && format === 'llama.cpp') {
      const body = JSON.parse(await readBody(req)) as { content: string };
      tokenizerCalls.push(`tokenize ${body.content}`);
      const n = body.content === '</think>' ? (opts.stopTokenCount ?? 1) : new TextEncoder().encode(body.content).length;
      return json(res, 200, { tokens: Array.from({ length: n }, (_, i) => 100 + i) });
    }
    if (req.method !== 'POST' || req.url !== '/v1/completions') return json(res, 404, { error: { message: 'not found' } });
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const prompt = String(body.prompt);
    const kind = Array.isArray(body.stop) ? 'thinking' : 'summary';
    const index = requests.length;
    requests.push({ body, kind, at: performance.now() });
    opts.onRequest?.(body, kind);
    const fault = opts.fault?.(index, body) ?? 'ok';
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (fault === 'hang') return; // never answers; the client's timeout fires
    if (fault === 429 || fault === 500) return json(res, fault, { error: { message: fault === 429 ? 'rate limited' : 'internal error' } });
    if (fault === 'malformed') {
      res.setHeader('content-type', 'application/json');
      res.end('{"choices": [ {"text": "oops"');
      return;
    }
    const name = PROBLEM.exec(prompt)?.[1];
    const t = name ? opts.traces[name] : undefined;
    if (!t) return json(res, 400, { error: { message: `unknown problem in prompt ${JSON.stringify(prompt.slice(0, 80))}` } });
    let choices: unknown[];
    let completionTokens = 0;
    if (kind === 'thinking') {
      const max = Number(body.max_tokens);
      const ids = outputIds(vocab, t, max + 8);
      const stops = body.stop as string[];
      const r =
        format === 'llama.cpp'
          ? llamaChoice(vocab, ids, max, stops, opts.stopTokenCount ?? 1, opts.topIsSampled ?? (() => true))
          : vllmChoice(vocab, ids, max, stops, format);
      const choice = r.choice as { logprobs: { tokens?: string[] } | null };
      if (t.rawVocabularyStrings && choice.logprobs?.tokens) choice.logprobs.tokens = choice.logprobs.tokens.map((x) => x.replace(/ /g, 'Ġ'));
      if (fault === 'no-logprobs' || body.logprobs === undefined) choice.logprobs = null;
      choices = [choice];
      completionTokens = r.completionTokens;
    } else {
      const thinking = prompt.slice(prompt.indexOf('<think>\n'));
      const gold = /so=(\w+)/.exec(thinking)?.[1];
      const n = Number(body.n ?? 1);
      const seed = typeof body.seed === 'number' ? body.seed : null;
      choices = Array.from({ length: n }, (_, i) => {
        const answer = gold !== undefined && !t.wrongChoices?.(i, seed) ? gold : '0';
        return { index: i, text: `The answer is $\\boxed{${answer}}$.`, finish_reason: 'stop', ...(format === 'llama.cpp' ? {} : { stop_reason: null }) };
      });
      completionTokens = 8 * n;
      choices.reverse(); // servers may return choices out of order
    }
    if (res.destroyed) return; // the server was closed while this request waited
    handle.answered++;
    json(res, 200, { id: `cmpl-${index}`, object: 'text_completion', model: body.model, choices, usage: { prompt_tokens: 10, completion_tokens: completionTokens, total_tokens: 10 + completionTokens } });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const handle: FakeServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    answered: 0,
    tokenizerCalls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return handle;
}
