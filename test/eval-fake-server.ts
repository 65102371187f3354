/**
 * A small deterministic "reasoning model" behind an OpenAI-compatible /v1/completions, for the
 * eval tests. Each problem (named P1..Pn in the prompt) has a known thinking trace; a summary
 * answers `\boxed{gold}` iff the thinking prefix in its prompt contains the answer token
 * ` so=<gold>`, else `\boxed{0}`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTrace {
  /** Thinking tokens (without the end-of-thinking). */
  tokens: string[];
  /** Whether the model closes its thinking after them. */
  finishes: boolean;
  /** Choice indices whose summary answers wrong regardless (to test averaging over A). */
  wrongChoices?: (index: number) => boolean;
}

/** Trace of n tokens ` w1 … wn` with the answer token at 1-based position `at` (if any). */
export function trace(n: number, finishes: boolean, answerAt?: { at: number; answer: string }): FakeTrace {
  const tokens = Array.from({ length: n }, (_, i) => (answerAt && i + 1 === answerAt.at ? ` so=${answerAt.answer}` : ` w${i + 1}`));
  return { tokens, finishes };
}

export type Fault = 'ok' | 429 | 500 | 'malformed' | 'no-logprobs' | 'hang';

export interface FakeServerOptions {
  traces: Record<string, FakeTrace>;
  /** How a finished thinking is returned: with the `</think>` token in logprobs (vLLM-like) or without. */
  stopToken: 'kept' | 'dropped';
  /** Decide a fault for the i-th POST (0-based). */
  fault?: (i: number, body: Record<string, unknown>) => Fault;
  /** Delay before each answer, in ms (to make a run slow enough to kill mid-way). */
  delayMs?: number;
  /** Called for each POST after it is recorded. */
  onRequest?: (body: Record<string, unknown>, kind: 'thinking' | 'summary') => void;
}

export interface FakeServer {
  url: string;
  /** Every POST body, in arrival order, with its kind and arrival time. */
  requests: { body: Record<string, unknown>; kind: 'thinking' | 'summary'; at: number }[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
}

export async function startFakeServer(opts: FakeServerOptions): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-r1' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/completions') {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const prompt = String(body.prompt);
    const kind = Array.isArray(body.stop) ? 'thinking' : 'summary';
    const index = requests.length;
    requests.push({ body, kind, at: performance.now() });
    opts.onRequest?.(body, kind);
    const fault = opts.fault?.(index, body) ?? 'ok';
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (fault === 'hang') return; // never answers; the client's timeout fires
    if (fault === 429 || fault === 500) {
      res.statusCode = fault;
      res.end(JSON.stringify({ error: { message: fault === 429 ? 'rate limited' : 'internal error' } }));
      return;
    }
    if (fault === 'malformed') {
      res.setHeader('content-type', 'application/json');
      res.end('{"choices": [ {"text": "oops"');
      return;
    }
    const name = /<｜User｜>(P\d+)\n/.exec(prompt)?.[1];
    const t = name ? opts.traces[name] : undefined;
    if (!t) {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: { message: `unknown problem in prompt ${JSON.stringify(prompt.slice(0, 80))}` } }));
      return;
    }
    let choices: unknown[];
    if (kind === 'thinking') {
      const max = Number(body.max_tokens);
      const fits = t.finishes && t.tokens.length + 1 <= max;
      const tokens = t.tokens.slice(0, fits ? t.tokens.length : max);
      const text = tokens.join('');
      const logTokens = fits && opts.stopToken === 'kept' ? [...tokens, '</think>'] : tokens;
      choices = [
        {
          index: 0,
          text,
          finish_reason: fits ? 'stop' : 'length',
          ...(fits && opts.stopToken === 'kept' ? { stop_reason: '</think>' } : {}),
          logprobs: fault === 'no-logprobs' || body.logprobs === undefined ? null : { tokens: logTokens, token_logprobs: logTokens.map(() => -0.1) },
        },
      ];
    } else {
      const thinking = prompt.slice(prompt.indexOf('<think>\n'));
      const gold = /so=(\w+)/.exec(thinking)?.[1];
      const n = Number(body.n ?? 1);
      choices = Array.from({ length: n }, (_, i) => {
        const answer = gold !== undefined && !t.wrongChoices?.(i) ? gold : '0';
        return { index: i, text: `The answer is $\\boxed{${answer}}$.`, finish_reason: 'stop' };
      });
      choices.reverse(); // servers may return choices out of order
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: `cmpl-${index}`, object: 'text_completion', model: body.model, choices }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
