/**
 * A thinking trace read from the server's response, with the text of every cut the budgets need.
 *
 * The thinking length convention (one rule for every server and tokenizer):
 * - `length` counts generated tokens. The end-of-thinking counts as **one** token however many
 *   tokens spell it (the tokens from the first one that overlaps `</think>` to the one that
 *   completes it): a trace that closed its thinking has length = tokens before those + 1.
 *   For models whose `</think>` is a single token (DeepSeek-R1, Qwen3) this is the true count.
 * - A trace that ended on end-of-sequence without closing its thinking counts its end-of-sequence
 *   token: length = tokens before it + 1. Budgets ≥ length cut a trace that ends in
 *   end-of-sequence and score 0 (§1); the budget length − 1 keeps every thinking token.
 * - A trace stopped at `max_tokens` has length = tokens generated.
 * vLLM and llama.cpp report the same generation in different layouts (see ./formats.ts); read
 * with these rules both give the same length and cuts, so the same budgets.
 *
 * A cut that the response does not determine exactly (see `TokenLayout.ends`) marks the sample
 * `unaligned`, with the reason; it is reported and left out of the scores, never approximated.
 */
import { cutPlan } from '../core/truncation.js';
import { EvalServerError, type CompletionResponse } from './client.js';
import {
  REPLACEMENT,
  readLlamaEntries,
  readTokenIds,
  readTokenStrings,
  type LayoutResult,
  type LlamaEntry,
  type ServerFormat,
  type TokenLayout,
  type TraceEnd,
} from './formats.js';

export interface ThinkingTrace {
  format: ServerFormat;
  /** Tokens the server generated (stop-string and end-of-sequence tokens included). */
  generated: number;
  /** Thinking length by the convention above. */
  length: number;
  /** Closed its thinking with the end-of-thinking string. */
  finished: boolean;
  /** Ended on end-of-sequence without closing its thinking (its full-length cut scores 0, §1). */
  eos: boolean;
  /** Why the sample cannot be scored exactly, or null. */
  unaligned: string | null;
  /** Text of the thinking tokens (before the end-of-thinking or end-of-sequence). */
  text: string;
  /** Text of the first `count` tokens, for the counts the budgets need (and `length` when finished). */
  prefix(count: number): string;
}

/** Server calls the reading may need (answered by any replica of the model). */
export interface TokenizerCalls {
  /** Text of token ids (vLLM `POST /detokenize`), for servers that return token ids. */
  detokenize?(ids: number[], signal?: AbortSignal): Promise<string>;
  /** Tokens the server's tokenizer gives `text` alone (llama.cpp `POST /tokenize`). */
  stopTokenCount?(text: string, signal?: AbortSignal): Promise<number>;
}

const NO_TOKENS_MESSAGE =
  'the server returned no per-token output (choices[0].logprobs.tokens or logprobs.content); ' +
  'exact token budgets need it: the request sets "logprobs": 1, which vLLM, SGLang and llama.cpp support; check the server version and its max-logprobs setting';

/** Text of a token-id prefix: the decoding without a trailing partial character. */
function completeDecoding(decoded: string, text: string): string | null {
  let s = decoded;
  while (s.endsWith(REPLACEMENT) && !text.startsWith(s)) s = s.slice(0, -1);
  return text.startsWith(s) ? s : null;
}

interface Reading {
  layout: TokenLayout;
  /** Text of the first k content tokens, or null when not determined. */
  prefixText(k: number): Promise<string | null>;
}

/**
 * A tokenizer call whose HTTP failure (e.g. a server without the endpoint) leaves the sample
 * unaligned rather than stopping the run; a server that does not answer at all still stops it.
 */
async function askTokenizer<T>(call: () => Promise<T>): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await call() };
  } catch (e) {
    if (e instanceof EvalServerError && (e.kind === 'http' || e.kind === 'malformed')) return { error: e.message };
    throw e;
  }
}

/** Thrown inside `readIds` when the detokenizer fails; becomes the unaligned reason. */
class DetokenizeFailed extends Error {}

async function readIds(
  choice: CompletionResponse['choices'][number],
  ids: number[],
  thinkEnd: string,
  calls: TokenizerCalls,
  signal?: AbortSignal,
): Promise<Reading | { unaligned: string; format: ServerFormat }> {
  const format: ServerFormat = 'token-ids';
  if (!calls.detokenize) return { unaligned: 'the server returned token ids (token_id:NNN) and no detokenizer is available', format };
  const detokenize = async (list: number[], sig?: AbortSignal): Promise<string> => {
    const r = await askTokenizer(() => calls.detokenize!(list, sig));
    if ('error' in r) throw new DetokenizeFailed(r.error);
    return r.value;
  };
  const text = choice.text;
  const n = ids.length;
  let content = n;
  let end: TraceEnd = 'length';
  const reason = choice.stop_reason;
  if (choice.finish_reason === 'stop') {
    if (reason === null || typeof reason === 'number') {
      end = 'eos';
      content = n - 1;
    } else {
      end = 'think-end';
      if (typeof reason === 'string' && reason !== thinkEnd) return { unaligned: `generation stopped on ${JSON.stringify(reason)}, not on ${JSON.stringify(thinkEnd)}`, format };
      // The end-of-thinking's tokens: the fewest trailing ids whose removal leaves the text.
      content = -1;
      for (let g = 1; g <= Math.min(n, 4 * thinkEnd.length); g++) {
        if ((await detokenize(ids.slice(0, n - g), signal)) === text) {
          content = n - g;
          break;
        }
      }
      if (content < 0) return { unaligned: 'no number of trailing token ids leaves exactly the text before the end-of-thinking', format };
    }
  }
  if (end !== 'think-end') {
    const whole = completeDecoding(await detokenize(ids.slice(0, content), signal), text);
    if (whole !== text) return { unaligned: 'the token ids do not decode to the returned text', format };
  }
  return {
    layout: { format, generated: n, end, content, text, ends: [] },
    prefixText: async (k) => (k === 0 ? '' : completeDecoding(await detokenize(ids.slice(0, k), signal), text)),
  };
}

function fromLayout(r: LayoutResult): Reading | { unaligned: string; format: ServerFormat } {
  if ('unaligned' in r) return r;
  const { layout } = r;
  return {
    layout,
    prefixText: async (k) => {
      if (k === 0) return '';
      const e = layout.ends[k - 1];
      return e === null ? null : layout.text.slice(0, e);
    },
  };
}

async function readResponse(
  response: CompletionResponse,
  thinkEnd: string,
  calls: TokenizerCalls,
  signal?: AbortSignal,
): Promise<Reading | { unaligned: string; format: ServerFormat }> {
  const choice = response.choices[0];
  const lp = choice.logprobs;
  if (lp && Array.isArray(lp.tokens) && lp.tokens.every((t) => typeof t === 'string')) {
    const tokens = lp.tokens as string[];
    const ids = readTokenIds(tokens);
    if (!ids) return fromLayout(readTokenStrings(choice, tokens, thinkEnd));
    try {
      return await readIds(choice, ids, thinkEnd, calls, signal);
    } catch (e) {
      if (e instanceof DetokenizeFailed) return { unaligned: `the server returned token ids and POST /detokenize failed: ${e.message}`, format: 'token-ids' };
      throw e;
    }
  }
  // llama.cpp sends `logprobs: null` when no entry is left: the few tokens there were all went
  // with the stop string or ended inside a character (e.g. the thinking was only `</think>`). A
  // server that ignores `logprobs` says the same of a whole trace, which is an error.
  const completion = response.usage?.completion_tokens;
  const noEntries = lp === null && typeof completion === 'number' && completion <= 8;
  if (noEntries || (lp && Array.isArray(lp.content) && lp.content.every((c) => typeof (c as LlamaEntry)?.token === 'string'))) {
    const content = (noEntries ? [] : lp!.content) as LlamaEntry[];
    let r = readLlamaEntries(choice, content, completion, thinkEnd, undefined);
    if ('needStopTokenCount' in r) {
      if (!calls.stopTokenCount) return { unaligned: 'llama.cpp stopped on the end-of-thinking string and no tokenizer is available to count the tokens it removed', format: 'llama.cpp' };
      const count = await askTokenizer(() => calls.stopTokenCount!(thinkEnd, signal));
      if ('error' in count) return { unaligned: `llama.cpp stopped on the end-of-thinking string and counting the tokens it dropped failed: ${count.error}`, format: 'llama.cpp' };
      r = readLlamaEntries(choice, content, completion, thinkEnd, count.value);
      if ('needStopTokenCount' in r) throw new Error('unreachable: stop token count given');
    }
    return fromLayout(r);
  }
  throw new EvalServerError('protocol', NO_TOKENS_MESSAGE);
}

/**
 * Reads the thinking request's response and prepares the text of every cut the budgets need.
 * Throws `EvalServerError('protocol')` for a response without per-token output.
 */
export async function readThinking(
  response: CompletionResponse,
  opts: { thinkEnd: string; budgets: number[]; calls?: TokenizerCalls; signal?: AbortSignal },
): Promise<ThinkingTrace> {
  const { thinkEnd, budgets } = opts;
  const reading = await readResponse(response, thinkEnd, opts.calls ?? {}, opts.signal);
  if ('unaligned' in reading) {
    return {
      format: reading.format,
      generated: response.usage?.completion_tokens ?? 0,
      length: 0,
      finished: false,
      eos: false,
      unaligned: reading.unaligned,
      text: response.choices[0].text,
      prefix: () => {
        throw new RangeError(`prefix: the trace is unaligned (${reading.unaligned})`);
      },
    };
  }
  const { layout } = reading;
  const finished = layout.end === 'think-end';
  const eos = layout.end === 'eos';
  const length = layout.end === 'length' ? layout.content : layout.content + 1;
  const prefixes = new Map<number, string>();
  let unaligned: string | null = null;
  for (const g of cutPlan(length, finished, budgets).groups) {
    const k = g.cutLength;
    if (prefixes.has(k)) continue;
    if (k === length && finished) prefixes.set(k, layout.text + thinkEnd);
    else if (k === length && eos) continue; // scores 0 without a request
    else {
      let text: string | null;
      try {
        text = await reading.prefixText(k);
      } catch (e) {
        if (!(e instanceof DetokenizeFailed)) throw e;
        unaligned = `POST /detokenize failed: ${e.message}`;
        break;
      }
      if (text === null) {
        unaligned = `the cut at ${k} tokens falls where the ${layout.format} response does not determine which characters the first ${k} tokens complete`;
        break;
      }
      prefixes.set(k, text);
    }
  }
  return {
    format: layout.format,
    generated: layout.generated,
    length,
    finished,
    eos,
    unaligned,
    text: layout.text,
    prefix(count: number): string {
      const p = prefixes.get(count);
      if (p === undefined) throw new RangeError(`prefix: no text prepared for ${count} tokens (prepared: ${[...prefixes.keys()].join(', ')})`);
      return p;
    },
  };
}
