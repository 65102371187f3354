/**
 * A thinking trace from the server's per-token output, cut at exact token counts.
 *
 * The token sequence comes from `choices[0].logprobs` (`tokens`, the completions layout of
 * vLLM and SGLang, or `content[].token/bytes`, the layout llama.cpp uses), so a budget `b`
 * keeps exactly the first `b` generated tokens. The prefix text is the decoded bytes of those
 * tokens when the server gives bytes; otherwise the token strings are aligned to the returned
 * `text`, so a token that holds part of a multi-byte character (shown by servers as U+FFFD or
 * `bytes:\x..`) cuts before that character instead of inserting a replacement character.
 *
 * End of thinking, and how it is counted: a trace is finished when generation stopped on the
 * end-of-thinking string (`</think>`). Its length counts the end-of-thinking as one token
 * (the tokens that spell it when the server returns them; one added token when the server
 * drops the stop string from its output), as the core's `cutPlan` expects: a budget equal to
 * the length keeps the whole closed thinking, one less cuts just before `</think>`.
 * A trace that ended on end-of-sequence without closing its thinking is not finished (`eos`).
 */
import { EvalServerError, type CompletionChoice } from './client.js';

export interface ThinkingTrace {
  /** Generated thinking tokens, the end-of-thinking included when finished. */
  length: number;
  /** Closed its thinking with the end-of-thinking string within the budget. */
  finished: boolean;
  /** Stopped on end-of-sequence without closing its thinking (its summaries score 0, §1). */
  eos: boolean;
  /** True when the end-of-thinking was not in the server's token list and was added as a token. */
  thinkEndAdded: boolean;
  /** True when token strings could not be aligned to `text` (prefixes then join token strings). */
  alignmentFallback: boolean;
  /** Text of the first `count` tokens (`count` ≤ length). */
  prefix(count: number): string;
}

const REPLACEMENT = '\uFFFD';

/** Char offset in `text` after each token, aligning token strings to the returned text. */
function alignTokens(tokens: string[], text: string): number[] | null {
  const ends: number[] = [];
  let cursor = 0;
  let pending = 0;
  for (const token of tokens) {
    const clean = !token.includes(REPLACEMENT) && !token.startsWith('bytes:');
    if (clean && pending === 0 && text.startsWith(token, cursor)) {
      cursor += token.length;
      ends.push(cursor);
      continue;
    }
    if (!clean) {
      pending++;
      continue;
    }
    // A clean token after partial-character tokens: the characters between the cursor and
    // where this token starts are the ones those tokens spelled together. Cutting inside them
    // keeps none of them; the last partial token completes them.
    const at = token === '' ? cursor : text.indexOf(token, cursor);
    if (at < 0 || at - cursor > 4 * pending) return null;
    for (let i = 0; i < pending - 1; i++) ends.push(cursor);
    ends.push(at);
    pending = 0;
    cursor = at + token.length;
    ends.push(cursor);
  }
  if (pending > 0) {
    if (text.length - cursor > 4 * pending) return null;
    for (let i = 0; i < pending - 1; i++) ends.push(cursor);
    ends.push(text.length);
  }
  return ends;
}

/** Builds a trace from the thinking request's single choice; throws when it has no per-token output. */
export function parseThinking(choice: CompletionChoice, thinkEnd: string): ThinkingTrace {
  const lp = choice.logprobs;
  let tokens: string[];
  let bytes: number[][] | null = null;
  if (lp && Array.isArray(lp.tokens) && lp.tokens.every((t) => typeof t === 'string')) {
    tokens = lp.tokens;
  } else if (lp && Array.isArray(lp.content) && lp.content.every((c) => typeof c?.token === 'string')) {
    tokens = lp.content.map((c) => c.token);
    if (lp.content.every((c) => Array.isArray(c.bytes))) bytes = lp.content.map((c) => c.bytes as number[]);
  } else {
    throw new EvalServerError(
      'protocol',
      'the server returned no per-token output (choices[0].logprobs.tokens or logprobs.content); ' +
        'exact token budgets need it: the request sets "logprobs": 1, which vLLM, SGLang and llama.cpp support; check the server version and its max-logprobs setting',
    );
  }
  const text = choice.text;

  // Full text and per-token end offsets.
  let full: string;
  let ends: number[];
  let alignmentFallback = false;
  if (bytes) {
    // A streaming decoder holds back a partial character, so its output length after token k
    // is the number of characters the first k tokens complete.
    const decoder = new TextDecoder();
    full = '';
    ends = bytes.map((b) => (full += decoder.decode(new Uint8Array(b), { stream: true })).length);
    full += decoder.decode();
  } else {
    // vLLM drops the stop string from `text` but may keep its token; try both texts.
    const candidates = choice.finish_reason === 'stop' ? [text, text + thinkEnd] : [text];
    const hit = candidates.map((t) => ({ t, ends: alignTokens(tokens, t) })).find((c) => c.ends && (c.ends.length ? c.ends[c.ends.length - 1] : 0) === c.t.length);
    if (hit) {
      full = hit.t;
      ends = hit.ends!;
    } else {
      // Token strings that do not spell the text: cut the tokens' own concatenation.
      full = '';
      ends = tokens.map((t) => (full += t).length);
      alignmentFallback = true;
    }
  }

  // Where does the end-of-thinking appear in the token text (if the server kept it)?
  const endAt = full.indexOf(thinkEnd);
  let length = tokens.length;
  let finished = false;
  let thinkEndAdded = false;
  let eos = false;
  if (endAt >= 0) {
    const closeAt = endAt + thinkEnd.length;
    length = ends.findIndex((e) => e >= closeAt) + 1;
    ends = ends.slice(0, length);
    ends[length - 1] = closeAt;
    full = full.slice(0, closeAt);
    finished = true;
  } else if (choice.finish_reason === 'stop') {
    // Stopped without the marker in the tokens: on the stop string (dropped from the output)
    // or on end-of-sequence. vLLM says which in `stop_reason`; without it, assume the stop string.
    const reason = choice.stop_reason;
    if (reason === undefined || reason === thinkEnd) {
      finished = true;
      thinkEndAdded = true;
      full += thinkEnd;
      ends.push(full.length);
      length += 1;
    } else {
      eos = true;
    }
  }
  const finalEnds = ends;
  const finalText = full;
  return {
    length,
    finished,
    eos,
    thinkEndAdded,
    alignmentFallback,
    prefix(count: number): string {
      if (!Number.isInteger(count) || count < 0 || count > length) throw new RangeError(`prefix: count must be an integer in [0, ${length}], got ${count}`);
      return count === 0 ? '' : finalText.slice(0, finalEnds[count - 1]);
    },
  };
}
