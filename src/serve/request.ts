/**
 * Validation of `POST /v1/completions` bodies.
 *
 * Accepted fields (OpenAI completions API, as vLLM serves it):
 *
 *   prompt       string, or an array of token ids; required
 *   max_tokens   integer ≥ 1, default 16; prompt (with BOS) + max_tokens ≤ the policy's context
 *   temperature  finite number ≥ 0, default 1 (0 = greedy)
 *   n            integer 1..MAX_N, default 1
 *   stop         string or array of strings (each spellable in the task vocabulary), default none
 *   logprobs     integer 0..MAX_LOGPROBS or null, default null
 *   seed         safe integer or null; null: the server draws one from its own seeded stream
 *   model        string; when given it must be the served model's id (404 otherwise)
 *
 * Fields this server does not implement are rejected when set to anything but their neutral
 * value (`stream`, `echo`, `suffix`, `best_of`, `top_p`, `top_k`, `min_p`, penalties,
 * `logit_bias`), so a client never gets silently different sampling. Any other field
 * (`user`, vendor extensions) is ignored, as vLLM does.
 */
import { SPECIAL } from '../tasks/types.js';
import { isEncodingError, type TextProtocol } from './protocol.js';

/** Most choices per request. */
export const MAX_N = 128;
/** Most alternatives per position in `logprobs` (vLLM's default `max_logprobs`). */
export const MAX_LOGPROBS = 20;
/** `max_tokens` when the request has none (the OpenAI default). */
export const DEFAULT_MAX_TOKENS = 16;

/** An HTTP error with an OpenAI-style body `{ error: { message, type, param, code } }`. */
export class ServeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type: string = status === 404 ? 'not_found_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
    this.name = 'ServeError';
  }

  /** The JSON body sent to the client. */
  body(): { error: { message: string; type: string; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/** A stop sequence in token ids and the text it was given as. */
export interface StopSequence {
  ids: number[];
  text: string;
}

/** A checked request. */
export interface CompletionParams {
  /** Prompt ids, BOS first. */
  promptIds: number[];
  maxTokens: number;
  temperature: number;
  n: number;
  stops: StopSequence[];
  /** Alternatives per position, or null for no `logprobs` in the response. */
  logprobs: number | null;
  /** Null when the request gave none. */
  seed: number | null;
}

/** What validation needs to know about the served model. */
export interface RequestContext {
  modelId: string;
  vocabSize: number;
  /** Longest prompt (with BOS) + max_tokens the policy's position embeddings allow. */
  maxSeqLen: number;
  protocol: TextProtocol;
}

/** Fields accepted only at these neutral values (null and absent are always fine). */
const NEUTRAL: Record<string, (v: unknown, body: Record<string, unknown>) => boolean> = {
  stream: (v) => v === false,
  echo: (v) => v === false,
  suffix: (v) => v === '',
  best_of: (v, body) => v === 1 || v === (body.n ?? 1),
  top_p: (v) => v === 1,
  top_k: (v) => v === -1 || v === 0,
  min_p: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  repetition_penalty: (v) => v === 1,
  logit_bias: (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 0,
};

const bad = (param: string, message: string): never => {
  throw new ServeError(400, `${param}: ${message}`, param);
};

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v));

function intField(body: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(name, `must be an integer, got ${show(v)}`);
  if ((v as number) < min || (v as number) > max) bad(name, `must be in ${min}..${max}, got ${show(v)}`);
  return v as number;
}

/** Checks a parsed JSON body and encodes its texts; throws ServeError (400/404) naming the bad field. */
export function parseCompletionRequest(body: unknown, ctx: RequestContext): CompletionParams {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ServeError(400, `the request body must be a JSON object, got ${Array.isArray(body) ? 'an array' : show(body)}`);
  }
  const b = body as Record<string, unknown>;

  if (b.model !== undefined && b.model !== null) {
    if (typeof b.model !== 'string') bad('model', `must be a string, got ${show(b.model)}`);
    if (b.model !== ctx.modelId) throw new ServeError(404, `model: '${String(b.model)}' does not exist; this server serves '${ctx.modelId}'`, 'model');
  }
  for (const [name, neutral] of Object.entries(NEUTRAL)) {
    const v = b[name];
    if (v !== undefined && v !== null && !neutral(v, b)) bad(name, `is not supported by anytime serve (got ${show(v)}); leave it out`);
  }

  // ---- prompt ----
  if (!('prompt' in b) || b.prompt === undefined || b.prompt === null) bad('prompt', 'is required (a string or an array of token ids)');
  let promptIds: number[];
  if (typeof b.prompt === 'string') {
    try {
      promptIds = ctx.protocol.encodePrompt(b.prompt);
    } catch (e) {
      if (isEncodingError(e)) bad('prompt', e.message.replace(/^text: /, ''));
      throw e;
    }
  } else if (Array.isArray(b.prompt) && b.prompt.length > 0 && b.prompt.every((t) => typeof t === 'number')) {
    (b.prompt as number[]).forEach((t, i) => {
      if (!Number.isInteger(t) || t < 0 || t >= ctx.vocabSize) bad('prompt', `[${i}] must be a token id in 0..${ctx.vocabSize - 1}, got ${show(t)}`);
    });
    promptIds = b.prompt[0] === SPECIAL.BOS ? [...(b.prompt as number[])] : [SPECIAL.BOS, ...(b.prompt as number[])];
  } else if (Array.isArray(b.prompt) && b.prompt.length === 1 && typeof b.prompt[0] === 'string') {
    return parseCompletionRequest({ ...b, prompt: b.prompt[0] }, ctx);
  } else {
    bad('prompt', `must be a string or a non-empty array of token ids (one prompt per request; concurrent requests are batched), got ${show(b.prompt).slice(0, 80)}`);
  }

  // ---- sampling ----
  const room = ctx.maxSeqLen - promptIds!.length;
  if (room < 1) bad('prompt', `has ${promptIds!.length} tokens (BOS included); the model's context is ${ctx.maxSeqLen}, leaving no room to generate`);
  const maxTokens = intField(b, 'max_tokens', Math.min(DEFAULT_MAX_TOKENS, room), 1, Number.MAX_SAFE_INTEGER);
  if (maxTokens > room) {
    bad('max_tokens', `is ${maxTokens}, but the prompt has ${promptIds!.length} tokens (BOS included) and the model's context is ${ctx.maxSeqLen}: at most ${room}`);
  }
  let temperature = 1;
  if (b.temperature !== undefined && b.temperature !== null) {
    if (typeof b.temperature !== 'number' || !Number.isFinite(b.temperature) || b.temperature < 0) {
      bad('temperature', `must be a finite number ≥ 0, got ${show(b.temperature)}`);
    }
    temperature = b.temperature as number;
  }
  const n = intField(b, 'n', 1, 1, MAX_N);
  const logprobs = b.logprobs === undefined || b.logprobs === null ? null : intField(b, 'logprobs', 0, 0, Math.min(MAX_LOGPROBS, ctx.vocabSize));
  let seed: number | null = null;
  if (b.seed !== undefined && b.seed !== null) {
    if (typeof b.seed !== 'number' || !Number.isSafeInteger(b.seed)) bad('seed', `must be an integer, got ${show(b.seed)}`);
    seed = b.seed as number;
  }

  // ---- stop ----
  let stopTexts: string[] = [];
  if (typeof b.stop === 'string') stopTexts = [b.stop];
  else if (Array.isArray(b.stop)) {
    b.stop.forEach((s, i) => {
      if (typeof s !== 'string' || s === '') bad('stop', `[${i}] must be a non-empty string, got ${show(s)}`);
    });
    stopTexts = b.stop as string[];
  } else if (b.stop !== undefined && b.stop !== null) bad('stop', `must be a string or an array of strings, got ${show(b.stop)}`);
  const stops = stopTexts.map((text, i): StopSequence => {
    try {
      return { ids: ctx.protocol.encodeStop(text), text };
    } catch (e) {
      if (isEncodingError(e)) bad('stop', `[${i}] ${e.message.replace(/^text: /, '')}`);
      throw e;
    }
  });

  return { promptIds: promptIds!, maxTokens, temperature, n, stops, logprobs, seed };
}
