/**
 * Reading a thinking response in the formats real servers return, down to exact token counts.
 *
 * A budget `b` keeps the first `b` generated tokens (ANYTIME.md §1). A summary prompt is text,
 * so the evaluator needs, for each token count `k`, the text those `k` tokens spell: the
 * characters they complete (a character whose bytes continue into token `k + 1` is left out; a
 * text prompt cannot carry part of a character). Servers describe tokens differently, and each
 * leaves some positions undetermined; those positions are returned as `null`, never guessed.
 * Which behaviour of which server each rule follows (read from their source):
 *
 * vLLM (`/v1/completions`, `logprobs.tokens`; vllm/entrypoints/openai/completion/serving.py,
 * vllm/v1/engine/detokenizer.py, vllm/v1/engine/logprobs.py):
 * - `tokens` lists every generated token: a stop string's tokens stay in it although `text`
 *   ends where the stop string begins; the end-of-sequence token stays in it, rendered as the
 *   tokenizer's end string (`<｜end▁of▁sentence｜>`), and is left out of `text`.
 * - `stop_reason` is the stop string that ended generation, a stop token id, or null for
 *   end-of-sequence (SGLang names the same field `matched_stop`).
 * - Each token is decoded alone. A token whose bytes end inside a character decodes to a string
 *   with U+FFFD; newer versions replace such a string by the decoding of the previous and this
 *   token, or by `""` when that still ends in U+FFFD, so the token that completes a character
 *   may carry text of the tokens before it.
 * - `--return-tokens-as-token-ids` renders tokens as `token_id:NNN` (read by `readTokenIds`).
 *
 * llama.cpp server (`/v1/completions`, `logprobs.content[]`; tools/server/server-context.cpp
 * `process_token`, `send_final_response`; tools/server/server-task.cpp `probs_vector_to_json`,
 * `to_json_oaicompat`):
 * - `finish_reason` is "stop" for a stop string and for end-of-sequence alike, with no
 *   `stop_reason`; `usage.completion_tokens` counts every generated token.
 * - An entry `{id, token, bytes, logprob, top_logprobs}` holds the text *sent* with its token.
 *   A token that leaves the text ending inside a character gets no entry at all; the next entry
 *   carries its bytes. A token whose text may begin the stop string is sent as `""` and its text
 *   travels with a later entry. End-of-sequence is an entry of its own with `""` (no bytes),
 *   unless it flushes held text.
 * - On a stop string the text is cut where the stop string begins and the last entries are
 *   dropped: as many as the stop string has tokens when the server tokenizes it alone
 *   (`stopTokenCount`, asked of the server's `POST /tokenize`).
 * - `top_logprobs[i]` carry `{id, bytes}` of candidate tokens; when the sampled token is among
 *   them, its own bytes are known, which pins down what an entry carries for earlier tokens.
 */

/** How the thinking ended. */
export type TraceEnd = 'length' | 'think-end' | 'eos';
/** Which per-token layout the server used. */
export type ServerFormat = 'vllm' | 'llama.cpp' | 'token-ids';

/** A thinking response read into tokens. */
export interface TokenLayout {
  format: ServerFormat;
  /** Tokens the server generated in all (stop string and end-of-sequence tokens included). */
  generated: number;
  end: TraceEnd;
  /** Tokens before the end-of-thinking or end-of-sequence token(s); all tokens at a length stop. */
  content: number;
  /** Text of the content tokens. */
  text: string;
  /**
   * `ends[k]`: length of the text completed by the first `k + 1` content tokens; null where the
   * response does not determine it (e.g. which of several split characters a token ended in).
   */
  ends: (number | null)[];
}

/** A response that cannot be read exactly: why, and what is known. */
export interface Unaligned {
  unaligned: string;
  format: ServerFormat;
}

export type LayoutResult = { layout: TokenLayout } | Unaligned;

export const REPLACEMENT = '\uFFFD';
const TOKEN_ID = /^token_id:(\d+)$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Code points of `s` that are not ASCII. */
function nonAsciiOffsets(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    if (cp >= 0x80) out.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// vLLM: token strings aligned to the returned text
// ---------------------------------------------------------------------------------------------

type Segment = { lit: string } | { wild: number };

/** A token string as literal text and runs of U+FFFD (bytes of characters split across tokens). */
function segments(token: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  while (i < token.length) {
    if (token[i] === REPLACEMENT) {
      let j = i;
      while (j < token.length && token[j] === REPLACEMENT) j++;
      out.push({ wild: j - i });
      i = j;
    } else {
      let j = i;
      while (j < token.length && token[j] !== REPLACEMENT) j++;
      out.push({ lit: token.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Where tokens that ended inside `span` (at `start`) end: exact when it has one non-ASCII character. */
function endsInside(span: string, start: number): number | null {
  const nonAscii = nonAsciiOffsets(span);
  return nonAscii.length === 1 ? start + nonAscii[0] : null;
}

/** UTF-16 length of the last code point of `s` (0 for ''). */
function lastCodePointLength(s: string): number {
  if (s === '') return 0;
  const lo = s.charCodeAt(s.length - 1);
  return lo >= 0xdc00 && lo <= 0xdfff && s.length > 1 ? 2 : 1;
}

const isNonAsciiAt = (s: string, end: number): boolean => end > 0 && s.codePointAt(end - lastCodePointLength(s.slice(0, end)))! >= 0x80;

type Aligned = { ends: (number | null)[]; used: number } | string;

/**
 * Aligns token strings to `target`: each token's end offset (null where the strings do not
 * determine it) and how many tokens were used (with `overrun`, the token that reaches the end
 * of the target may run past it, and later tokens are left unused: tokens after a stop string).
 *
 * vLLM renders a token that holds part of a character in one of two ways, told apart by the
 * strings themselves: older releases decode each token alone, so such strings end in U+FFFD
 * (`alignDecodedAlone`); newer ones replace them by the decoding of the previous and this token,
 * or by "" (`alignRedecoded`), so no string ends in U+FFFD.
 */
export function alignTokenStrings(tokens: string[], target: string, overrun: boolean): Aligned {
  const redecoded = tokens.some((t) => t === '');
  const alone = tokens.some((t) => t.endsWith(REPLACEMENT));
  if (redecoded && alone) return 'the token strings mix two renderings of split characters ("" and a trailing U+FFFD)';
  return redecoded ? alignRedecoded(tokens, target, overrun) : alignDecodedAlone(tokens, target, overrun);
}

/** Matches a clean string at `c`, or (with `overrun`) up to the end of the target. */
function matchAt(target: string, text: string, c: number, overrun: boolean): { end: number; overran: boolean } | null {
  if (target.startsWith(text, c)) return { end: c + text.length, overran: false };
  if (overrun && text.startsWith(target.slice(c))) return { end: target.length, overran: true };
  return null;
}

/** Positions `p` in `(from, from + window]` where `text` starts right after a non-ASCII character. */
function afterSplitCharacter(target: string, text: string, from: number, window: number): number[] {
  const out: number[] = [];
  for (let p = from + 1; p <= Math.min(target.length, from + window); p++) if (target.startsWith(text, p) && isNonAsciiAt(target, p)) out.push(p);
  return out;
}

/**
 * Older vLLM: every string is its token decoded alone. A run of U+FFFD stands for bytes of
 * characters split across tokens (non-ASCII: an ASCII character is one byte), so the text the
 * run covers is found between the literal text around it; boundaries inside a run that covers
 * one character are at its start, inside a run of several they are not determined.
 */
function alignDecodedAlone(tokens: string[], target: string, overrun: boolean): Aligned {
  const ends: (number | null)[] = new Array(tokens.length).fill(null);
  let c = 0;
  /** A run of U+FFFD: where it starts, how many, and the tokens that end inside it. */
  let run: { start: number; wild: number; inside: number[] } | null = null;
  for (let i = 0; i < tokens.length; i++) {
    if (c >= target.length && overrun && run === null) return { ends, used: i };
    if (tokens[i] === '') return `token ${i} is empty`;
    const segs = segments(tokens[i]);
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k];
      if ('wild' in seg) {
        if (!run) run = { start: c, wild: 0, inside: [] };
        run.wild += seg.wild;
        continue;
      }
      if (run) {
        const fits = afterSplitCharacter(target, seg.lit, run.start, 2 * run.wild).filter((p) => {
          const cps = [...target.slice(run!.start, p)];
          return cps.length <= run!.wild && cps.every((ch) => ch.codePointAt(0)! >= 0x80);
        });
        if (fits.length !== 1) {
          return fits.length === 0 ? `token strings do not spell the text at offset ${run.start}` : `the characters split across tokens at offset ${run.start} can be read in more than one way`;
        }
        const end = fits[0];
        const inside = endsInside(target.slice(run.start, end), run.start);
        // A token followed by one that starts with text ended where its characters end.
        run.inside.forEach((t, j) => (ends[t] = k === 0 && j === run!.inside.length - 1 ? end : inside));
        c = end;
        run = null;
      }
      const m = matchAt(target, seg.lit, c, overrun);
      if (!m) return `token ${i} (${JSON.stringify(tokens[i])}) does not spell the text at offset ${c}`;
      c = m.end;
      if (m.overran) {
        ends[i] = c;
        return { ends, used: i + 1 };
      }
    }
    if ('wild' in segs[segs.length - 1]) run!.inside.push(i);
    else ends[i] = c;
  }
  if (run) {
    // Split characters at the very end: the text has those completed. All tokens are done with
    // the last one; the others end at the run's start only if it completed nothing.
    const rest = target.slice(c);
    const cps = [...rest];
    if (cps.length > run.wild || cps.some((ch) => ch.codePointAt(0)! < 0x80)) return `token strings do not spell the end of the text (offset ${c})`;
    const r = run;
    r.inside.forEach((t, j) => (ends[t] = j === r.inside.length - 1 ? target.length : rest === '' ? c : null));
    c = target.length;
  }
  if (c !== target.length) return `token strings spell ${c} of the text's ${target.length} characters`;
  return { ends, used: tokens.length };
}

/**
 * Newer vLLM (`_verify_tokens`): a string that would end in U+FFFD is replaced by the decoding
 * of the previous and this token when that does not, else by "". So "" holds text the strings
 * do not show; a clean string right after one "" may carry that token's text (it then ends with
 * the character the two complete); a string that starts with U+FFFD completes the character the
 * tokens before it left open. Boundaries are exact only where these facts pin them down.
 */
function alignRedecoded(tokens: string[], target: string, overrun: boolean): Aligned {
  const ends: (number | null)[] = new Array(tokens.length).fill(null);
  let c = 0;
  let held: number[] = []; // "" tokens since the last known boundary
  /** Text a run of held tokens may hide (a token spells at most a few dozen characters). */
  const window = () => 24 * held.length + 4;
  for (let i = 0; i < tokens.length; i++) {
    if (c >= target.length && overrun && held.length === 0) return { ends, used: i };
    const s = tokens[i];
    if (s === '') {
      held.push(i);
      continue;
    }
    const lead = s.length - s.replace(/^\uFFFD+/, '').length;
    const rest = s.slice(lead);
    if (rest.includes(REPLACEMENT)) return `token ${i} (${JSON.stringify(s)}) has U+FFFD inside its text`;
    if (held.length === 0) {
      if (lead > 0) return `token ${i} (${JSON.stringify(s)}) completes a character no earlier token began`;
      const m = matchAt(target, s, c, overrun);
      if (!m) return `token ${i} (${JSON.stringify(s)}) does not spell the text at offset ${c}`;
      c = ends[i] = m.end;
      if (m.overran) return { ends, used: i + 1 };
      continue;
    }
    if (lead === 0) {
      // After one "" (which began at a boundary, so it ended inside a character) a clean string
      // can only be the re-decoding of the two: that token's text, then the character they
      // complete. After several, it may also be this token alone after a "" that completed a
      // character; either way it ends where `s` ends.
      if (held.length === 1) {
        if (!target.startsWith(s, c) || !isNonAsciiAt(s, s.length)) return `token ${i} (${JSON.stringify(s)}) does not spell the text after the token before it (offset ${c})`;
        ends[held[0]] = c + s.length - lastCodePointLength(s);
        c = ends[i] = c + s.length;
      } else {
        const pairEnd = isNonAsciiAt(s, s.length);
        const at: number[] = [];
        for (let p = c; p <= Math.min(target.length, c + window()); p++) if (target.startsWith(s, p) && (pairEnd || isNonAsciiAt(target, p))) at.push(p);
        if (at.length !== 1) return at.length === 0 ? `token ${i} (${JSON.stringify(s)}) does not spell the text after offset ${c}` : `the text held by tokens ${held.join(', ')} can be read in more than one way`;
        const p = at[0];
        const alone = isNonAsciiAt(target, p) && !pairEnd;
        const inside = alone ? endsInside(target.slice(c, p), c) : null;
        held.forEach((t, j) => (ends[t] = j === held.length - 1 ? (alone ? p : null) : inside));
        c = ends[i] = p + s.length;
      }
    } else {
      // Starts with the end of a character the held tokens left open, then its own text.
      const at = afterSplitCharacter(target, rest, c, window());
      if (at.length !== 1) return at.length === 0 ? `token ${i} (${JSON.stringify(s)}) does not spell the text after offset ${c}` : `the text held by tokens ${held.join(', ')} can be read in more than one way`;
      const p = at[0];
      if (held.length === 1) ends[held[0]] = p - lastCodePointLength(target.slice(0, p));
      c = ends[i] = p + rest.length;
    }
    held = [];
  }
  if (held.length > 0) {
    // Held at the very end: the text has what they completed; the last one is done with all of it.
    const rest = target.slice(c);
    const none = nonAsciiOffsets(rest).length === 0;
    held.forEach((t, j) => (ends[t] = j === held.length - 1 || none ? target.length : null));
    c = target.length;
  }
  if (c !== target.length) return `token strings spell ${c} of the text's ${target.length} characters`;
  return { ends, used: tokens.length };
}

/** First `content` tokens end at or before the end-of-thinking at `markerAt`: how many are they? */
function tokensBefore(ends: (number | null)[], markerAt: number): number | string {
  let count = 0;
  for (let i = 0; i < ends.length; i++) {
    const e = ends[i];
    if (e !== null) {
      if (e > markerAt) return count;
      count = i + 1;
      continue;
    }
    const next = ends.slice(i + 1).find((x) => x !== null);
    if (next !== undefined && next !== null && next <= markerAt) continue;
    return `token ${i} sits where the end-of-thinking begins and its extent is not known`;
  }
  return count;
}

interface ChoiceLike {
  text: string;
  finish_reason: string | null;
  stop_reason?: string | number | null;
  matched_stop?: string | number | null;
  logprobs?: { tokens?: unknown; content?: unknown } | null;
}

/** Reads a vLLM/SGLang-style choice (`logprobs.tokens` as strings, not token ids). */
export function readTokenStrings(choice: ChoiceLike, tokens: string[], thinkEnd: string): LayoutResult {
  const format: ServerFormat = 'vllm';
  const text = choice.text;
  const n = tokens.length;
  const reason = choice.stop_reason !== undefined ? choice.stop_reason : choice.matched_stop;
  const fromMarker = (target: string, ends: (number | null)[], used: number, end: TraceEnd): LayoutResult => {
    const markerAt = target.indexOf(thinkEnd);
    if (markerAt < 0) return { layout: { format, generated: n, end, content: used, text: target, ends: ends.slice(0, used) } };
    const content = tokensBefore(ends.slice(0, used), markerAt);
    if (typeof content === 'string') return { unaligned: content, format };
    return { layout: { format, generated: n, end: 'think-end', content, text: target.slice(0, markerAt), ends: ends.slice(0, content) } };
  };
  if (choice.finish_reason !== 'stop') {
    // Stopped at max_tokens; a server that ignores `stop` may still have closed the thinking.
    const aligned = alignTokenStrings(tokens, text, false);
    if (typeof aligned === 'string') return { unaligned: aligned, format };
    return fromMarker(text, aligned.ends, n, 'length');
  }
  const asStop = (stop: string): LayoutResult => {
    // `include_stop_str_in_output` keeps the stop string in the text.
    const target = text.endsWith(stop) ? text : text + stop;
    const aligned = alignTokenStrings(tokens, target, true);
    if (typeof aligned === 'string') return { unaligned: `stop string ${JSON.stringify(stop)}: ${aligned}`, format };
    if (stop !== thinkEnd) return { unaligned: `generation stopped on ${JSON.stringify(stop)}, not on the end-of-thinking ${JSON.stringify(thinkEnd)}`, format };
    return fromMarker(target, aligned.ends, aligned.used, 'think-end');
  };
  const asEos = (): LayoutResult => {
    if (n === 0) return { unaligned: 'end-of-sequence without any token', format };
    const aligned = alignTokenStrings(tokens.slice(0, -1), text, false);
    if (typeof aligned === 'string') return { unaligned: `end-of-sequence: ${aligned}`, format };
    return fromMarker(text, aligned.ends, n - 1, 'eos');
  };
  if (typeof reason === 'string') return asStop(reason);
  if (reason === null || typeof reason === 'number') return asEos();
  // No stop_reason: the tokens say which, when only one reading fits.
  const stop = asStop(thinkEnd);
  const eos = asEos();
  if ('layout' in stop && !('layout' in eos)) return stop;
  if ('layout' in eos && !('layout' in stop)) return eos;
  return {
    unaligned: 'finish_reason "stop" without stop_reason, and the tokens do not show whether the end-of-thinking or end-of-sequence ended generation',
    format,
  };
}

/** Token ids from `token_id:NNN` strings (vLLM `--return-tokens-as-token-ids`), or null. */
export function readTokenIds(tokens: string[]): number[] | null {
  if (tokens.length === 0 || !tokens.every((t) => TOKEN_ID.test(t))) return null;
  return tokens.map((t) => Number(TOKEN_ID.exec(t)![1]));
}

// ---------------------------------------------------------------------------------------------
// llama.cpp: entries of sent text, tokens without entries, stop strings removed
// ---------------------------------------------------------------------------------------------

/** One `logprobs.content[]` entry as this module uses it. */
export interface LlamaEntry {
  id?: number;
  token: string;
  bytes?: number[] | null;
  top_logprobs?: { id?: number; token?: string; bytes?: number[] | null }[] | null;
}

interface Entry {
  /** Bytes sent with this token (its own and any held before it). */
  sent: Uint8Array;
  /** The token's own bytes, when the sampled token is among its `top_logprobs`. */
  own?: Uint8Array;
}

function bytesOfEntry(e: LlamaEntry): Uint8Array {
  return Array.isArray(e.bytes) ? Uint8Array.from(e.bytes) : encoder.encode(e.token);
}

function ownBytes(e: LlamaEntry): Uint8Array | undefined {
  if (typeof e.id !== 'number' || !Array.isArray(e.top_logprobs)) return undefined;
  const hit = e.top_logprobs.find((t) => t?.id === e.id && Array.isArray(t.bytes));
  return hit ? Uint8Array.from(hit.bytes!) : undefined;
}

function endsWithBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[a.length - b.length + i] !== b[i]) return false;
  return true;
}

/** Bytes of the longest prefix of `b` that ends on a character boundary. */
function completePrefixLength(b: Uint8Array): number {
  let i = b.length;
  // Back up over continuation bytes to the last lead byte; keep it only if its character is whole.
  let j = i - 1;
  while (j >= 0 && (b[j] & 0xc0) === 0x80) j--;
  if (j < 0) return 0;
  const lead = b[j];
  const need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i - j >= need ? i : j;
}

const hasMultiByte = (b: Uint8Array): boolean => b.some((x) => x >= 0x80);

const isContinuation = (x: number): boolean => (x & 0xc0) === 0x80;

/** Characters completed by the first `q` bytes of `b`. */
function charsIn(b: Uint8Array, q: number): number {
  const head = b.subarray(0, q);
  return decoder.decode(head.subarray(0, completePrefixLength(head))).length;
}

/** A token whose end the entries do not show directly; `own` when its bytes are known. */
interface PendingToken {
  index: number;
  own?: Uint8Array;
  /** A token without an entry (it left the text inside a character). */
  missing: boolean;
}

/**
 * Ends of the tokens whose text `bytes` (starting at text offset `at`) carries, walking back
 * from `end` (a byte offset, the last one's end) over tokens whose own bytes are known. When
 * the bytes between are not known, the character counts give the ends only if the text has
 * one split character, which every token without an entry must then have ended inside.
 */
function resolvePending(pending: PendingToken[], bytes: Uint8Array, end: number | null, at: number, ends: (number | null)[], stopPrefixes: string[]): void {
  let cursor = end;
  for (let j = pending.length - 1; j >= 0; j--) {
    const t = pending[j];
    if (cursor === null) break;
    ends[t.index] = at + charsIn(bytes, cursor);
    cursor = t.own && t.own.length <= cursor ? cursor - t.own.length : null;
  }
  const unresolved = pending.filter((t) => ends[t.index] === null);
  if (unresolved.length === 0) return;
  const text = decoder.decode(bytes.subarray(0, completePrefixLength(bytes)));
  if (unresolved.every((t) => t.missing)) {
    const only = endsInside(text, at);
    for (const t of unresolved) ends[t.index] = only;
  } else if (unresolved.length === 1 && pending.length === 1) {
    // One entry held back because its text may begin the stop string: that text ends with a
    // prefix of the stop string; exact if only one cut of the carried text does.
    const cuts: number[] = [];
    for (let p = 1; p < text.length; p++) if (stopPrefixes.some((q) => text.slice(0, p).endsWith(q))) cuts.push(p);
    ends[unresolved[0].index] = cuts.length === 1 ? at + cuts[0] : null;
  }
}

interface LlamaReading {
  /** Content entries (before the end-of-sequence / end-of-thinking). */
  entries: Entry[];
  /** Entry that carries held text but is not content (end-of-sequence), if any. */
  closer: Entry | null;
  /** Content text. */
  text: string;
  /** Text the last content entries hold (sent with entries the server removed). */
  tail: string;
  content: number;
  end: TraceEnd;
}

/**
 * Tokens without an entry, placed before the entries that follow them. An entry whose own bytes
 * begin with a continuation byte follows at least one (the token before it left the text inside
 * a character); one whose own bytes begin a character follows none; one whose own bytes are not
 * known may, if it carries a multi-byte character or sends nothing. The count is exact when it
 * equals the entries that must follow one (one each), or when only one entry may.
 */
function placeMissing(entries: Entry[], missing: number, endCarrier: boolean): { before: number[]; after: number } | { ambiguous: string } | { impossible: string } {
  const before = new Array<number>(entries.length).fill(0);
  if (missing < 0) return { impossible: 'llama.cpp reported fewer tokens than the reading needs' };
  const proven: number[] = [];
  const possible: number[] = [];
  // How many tokens without an entry can sit before an entry: each has at least one byte the
  // entry sends before its own (unless the entry sends nothing, passing them on).
  let room = endCarrier ? Infinity : 0;
  entries.forEach((e, i) => {
    const ownFits = e.own !== undefined && endsWithBytes(e.sent, e.own);
    const cap = e.sent.length === 0 ? Infinity : ownFits ? e.sent.length - e.own!.length : e.own ? e.sent.length : e.sent.length - 1;
    if (e.own) {
      if (e.own.length > 0 && isContinuation(e.own[0])) {
        proven.push(i);
        room += cap;
      }
    } else if (e.sent.length === 0 || hasMultiByte(e.sent)) {
      possible.push(i);
      room += cap;
    }
  });
  const provenCount = proven.length + (endCarrier ? 1 : 0);
  if (missing < provenCount) return { impossible: `llama.cpp reported ${missing} tokens without an entry but ${provenCount} entries follow such tokens` };
  if (missing > room) return { impossible: `${missing} tokens without an entry do not fit in the bytes the entries carry` };
  if (missing === 0) return { before, after: 0 };
  if (missing === provenCount) {
    for (const i of proven) before[i] = 1;
    return { before, after: endCarrier ? 1 : 0 };
  }
  const candidates = [...proven, ...possible];
  if (candidates.length + (endCarrier ? 1 : 0) === 1) {
    if (candidates.length === 0) return { before, after: missing };
    before[candidates[0]] = missing;
    return { before, after: 0 };
  }
  return { ambiguous: `${missing} tokens have no entry (each ended inside a character) and ${candidates.length + (endCarrier ? 1 : 0)} places could hold them` };
}

/**
 * Reads a llama.cpp choice. `stopTokenCount` is how many tokens the server drops for the stop
 * string (`undefined` until asked: the result then says it is needed).
 */
export function readLlamaEntries(
  choice: ChoiceLike,
  content: LlamaEntry[],
  completionTokens: number | undefined,
  thinkEnd: string,
  stopTokenCount: number | undefined,
): LayoutResult | { needStopTokenCount: true } {
  const format: ServerFormat = 'llama.cpp';
  if (!Number.isInteger(completionTokens)) {
    return { unaligned: 'the response has no usage.completion_tokens; llama.cpp gives no entry to some tokens, so the count is needed', format };
  }
  const N = completionTokens!;
  const all: Entry[] = content.map((e) => ({ sent: bytesOfEntry(e), own: ownBytes(e) }));
  const sentText = all.map((e) => decoder.decode(e.sent));
  const S = sentText.join('');
  let T = choice.text;
  if (!T.startsWith(S)) return { unaligned: 'the entries of logprobs.content do not spell the beginning of the text', format };
  let X = T.slice(S.length);
  let endCarrier = false;
  if (choice.finish_reason !== 'stop' && /\uFFFD+$/.test(X)) {
    // Stopped at max_tokens inside a character: the last tokens have no entry, and `text` holds
    // their bytes (the partial character written as U+FFFD).
    X = X.replace(/\uFFFD+$/, '');
    T = S + X;
    endCarrier = true;
  }
  const E = all.length;
  const stopPrefixes = Array.from({ length: thinkEnd.length - 1 }, (_, k) => thinkEnd.slice(0, k + 1));

  const trailingEmpty = (() => {
    let t = 0;
    while (t < E && all[E - 1 - t].sent.length === 0) t++;
    return t;
  })();

  const readings: { reading: LlamaReading; missing: number; endCarrier: boolean; ambiguous?: string }[] = [];
  const tryLength = (): void => {
    readings.push({ reading: { entries: all, closer: null, text: T, tail: X, content: N, end: 'length' }, missing: N - E, endCarrier });
  };
  const tryEos = (): void => {
    if (E === 0 || X !== '') return;
    const last = all[E - 1];
    if (last.own && last.own.length > 0) return;
    readings.push({ reading: { entries: all.slice(0, -1), closer: { sent: last.sent, own: new Uint8Array() }, text: T, tail: '', content: N - 1, end: 'eos' }, missing: N - E, endCarrier: false });
  };
  const tryStop = (r: number): void => {
    // Trailing entries without text: marker tokens (when nothing is missing from the text) or
    // content tokens whose held text went out with the removed entries.
    let markerEntries = trailingEmpty;
    if (X !== '') {
      // Text beyond the entries went out with the dropped ones. With a stop string of one token
      // the dropped entry is the one that completed it, so the text was held by the entry before
      // it; with more, the server may have dropped entries of thinking tokens (its tokenizer
      // spells the stop string in more tokens than the model used), which cannot be counted.
      if (r > 1) {
        readings.push({ reading: { entries: [], closer: null, text: T, tail: X, content: 0, end: 'think-end' }, missing: 0, endCarrier: false, ambiguous: `llama.cpp dropped ${r} entries for the stop string and they carried thinking text, so the thinking tokens cannot be counted` });
        return;
      }
      if (trailingEmpty === 0) return; // impossible: the dropped entry must be the one completing the stop string
      if (trailingEmpty === 1) markerEntries = 0;
      else {
        const tail = all.slice(E - trailingEmpty);
        if (!tail.every((e) => e.own)) return;
        let got = '';
        markerEntries = trailingEmpty;
        for (const e of tail) {
          if (got.length >= X.length) break;
          got += decoder.decode(e.own);
          markerEntries--;
        }
        if (got !== X) return;
      }
    }
    const g = r + markerEntries;
    const kept = E - markerEntries;
    readings.push({ reading: { entries: all.slice(0, kept), closer: null, text: T, tail: X, content: N - g, end: 'think-end' }, missing: N - g - kept, endCarrier: false });
  };

  if (choice.finish_reason !== 'stop') tryLength();
  else {
    const last = all[E - 1];
    const lastKnown = last?.own !== undefined;
    const needStop = !(lastKnown && last.own!.length === 0);
    if (needStop && stopTokenCount === undefined) return { needStopTokenCount: true };
    if (!lastKnown || last.own!.length === 0) tryEos();
    if (needStop) tryStop(stopTokenCount!);
  }

  // The reading that fits the counts and bytes (several fitting is no answer: llama.cpp's
  // "stop" does not say which); then it must also place the tokens without an entry exactly.
  const placed = readings
    .filter((x) => x.reading.content >= 0)
    .map((r) => ({ r, place: r.ambiguous ? { ambiguous: r.ambiguous } : placeMissing(r.reading.entries, r.missing, r.endCarrier) }));
  const fitting = placed.filter((x) => !('impossible' in x.place));
  if (fitting.length !== 1) {
    if (fitting.length > 1) return { unaligned: 'finish_reason "stop" fits both end-of-sequence and the end-of-thinking string (llama.cpp sends no stop_reason)', format };
    const why = placed.map((x) => x.place).find((p) => 'impossible' in p) as { impossible: string } | undefined;
    return { unaligned: why?.impossible ?? 'the entries of logprobs.content do not fit the text and token count', format };
  }
  const { r, place } = fitting[0];
  if ('ambiguous' in place) return { unaligned: place.ambiguous, format };
  const { before, after } = place as { before: number[]; after: number };
  const reading = r.reading;

  // Walk the content tokens. Tokens without an entry sit before the entry that follows them;
  // tokens whose text is sent later (no entry, or an entry sent as "") wait for the entry that
  // sends it, whose own bytes, when known, mark where theirs end.
  const ends: (number | null)[] = [];
  let b = 0;
  let pending: PendingToken[] = [];
  const send = (e: Entry) => {
    if (pending.length === 0) return;
    const own = e.own && endsWithBytes(e.sent, e.own) ? e.own : undefined;
    resolvePending(pending, e.sent, own ? e.sent.length - own.length : null, b, ends, stopPrefixes);
    pending = [];
  };
  reading.entries.forEach((e, i) => {
    for (let k = 0; k < before[i]; k++) {
      pending.push({ index: ends.length, missing: true });
      ends.push(null);
    }
    if (e.sent.length === 0) {
      pending.push({ index: ends.length, own: e.own, missing: false });
      ends.push(null);
      return;
    }
    send(e);
    b += decoder.decode(e.sent).length;
    ends.push(b);
  });
  if (reading.closer) send(reading.closer);
  for (let k = 0; k < after; k++) {
    pending.push({ index: ends.length, missing: true });
    ends.push(null);
  }
  // What `text` has beyond the entries belongs to the last tokens (sent as "" or without an
  // entry); the last of them is done with all of it.
  const tail = reading.tail;
  if (tail !== '' && pending.length === 0) return { unaligned: 'the text goes on past what the entries of logprobs.content carry', format };
  if (pending.length > 0) {
    const tailBytes = encoder.encode(tail);
    const last = pending[pending.length - 1];
    ends[last.index] = b + tail.length;
    const known = last.own && !last.missing ? tailBytes.length - last.own.length : null;
    const rest = pending.slice(0, -1);
    if (rest.length > 0) {
      if (known !== null && known >= 0) resolvePending(rest, tailBytes, known, b, ends, stopPrefixes);
      else if (nonAsciiOffsets(tail).length === 0 && rest.every((t) => t.missing)) for (const t of rest) ends[t.index] = b + tail.length;
    }
    pending = [];
  }
  if (ends.length !== reading.content) {
    return { unaligned: `counted ${ends.length} content tokens from the entries but ${reading.content} from usage.completion_tokens`, format };
  }
  const text = reading.text;
  if (reading.end !== 'think-end' && text.includes(thinkEnd)) {
    // A server that ignored `stop` closed the thinking in the text.
    const markerAt = text.indexOf(thinkEnd);
    const contentTokens = tokensBefore(ends, markerAt);
    if (typeof contentTokens === 'string') return { unaligned: contentTokens, format };
    return { layout: { format, generated: N, end: 'think-end', content: contentTokens, text: text.slice(0, markerAt), ends: ends.slice(0, contentTokens) } };
  }
  return { layout: { format, generated: N, end: reading.end, content: reading.content, text, ends } };
}
