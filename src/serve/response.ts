/**
 * Completion choices in the OpenAI completions layout that vLLM returns:
 *
 *   { index, text, finish_reason, stop_reason,
 *     logprobs: { tokens, token_logprobs, top_logprobs, text_offset } | null }
 *
 * As vLLM does (vllm/v1/engine/detokenizer.py, vllm/entrypoints/openai/completion/serving.py):
 * - `text` ends where the stop string that ended generation begins (vLLM's default), and
 *   leaves out EOS. `finish_reason` is 'stop' for both, 'length' at `max_tokens`; `stop_reason`
 *   is the stop string, or null for EOS and at the length limit.
 * - `logprobs.tokens` lists every generated token, the stop string's tokens and EOS included
 *   (EOS rendered as the vocabulary's `<eos>`), so the tokens spell `text`, then the stop;
 *   `token_logprobs` are log-probabilities under the model's own distribution (temperature 1,
 *   like vLLM's raw logprobs); `top_logprobs[k]` maps token text to log-prob for the `logprobs`
 *   most likely tokens plus the sampled one; `text_offset[k]` adds up the lengths of the tokens
 *   before k (past the end of `text` for the stop's tokens).
 * - With `boxAnswers`, the text of a summary (a completion of a prompt that ends in the answer
 *   header, ANSWER) is returned as `\boxed{<text>}` (its surrounding spaces trimmed), so that
 *   `gradeSummary` can read the tiny tasks' bare-digit answers. Offsets then point into the
 *   boxed text (shifted by the length of `\boxed{`, the trimmed leading space dropped).
 */
import { SPECIAL } from '../tasks/types.js';
import type { RowOutput } from './generate.js';
import type { TextProtocol } from './protocol.js';

export interface ChoiceLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export interface Choice {
  index: number;
  text: string;
  logprobs: ChoiceLogprobs | null;
  finish_reason: 'stop' | 'length';
  stop_reason: string | null;
}

const BOX_OPEN = '\\boxed{';

/** Formats one row's output as choice `index` of a completion of `promptIds`. */
export function formatChoice(
  index: number,
  promptIds: number[],
  out: RowOutput,
  opts: { protocol: TextProtocol; logprobs: boolean; boxAnswers: boolean },
): Choice {
  const { protocol } = opts;
  const kept = out.tokens.length - out.stopLength;
  const pieces: string[] = [];
  let previous = promptIds[promptIds.length - 1];
  for (const token of out.tokens) {
    pieces.push(protocol.piece(previous, token));
    previous = token;
  }
  let text = pieces.slice(0, kept).join('');
  if (out.stop) {
    // The text runs up to where the stop string begins (a space before it stays, as in vLLM).
    const spelled = pieces.join('');
    const at = spelled.lastIndexOf(out.stop.text);
    if (at >= text.length) text = spelled.slice(0, at);
  }
  // Where raw offset x lands in the returned text (identity unless boxed).
  let place = (x: number): number => x;
  if (opts.boxAnswers && promptIds[promptIds.length - 1] === SPECIAL.ANSWER) {
    const lead = text.length - text.trimStart().length;
    text = BOX_OPEN + text.trim() + '}';
    place = (x) => BOX_OPEN.length + Math.max(0, x - lead);
  }
  let logprobs: ChoiceLogprobs | null = null;
  if (opts.logprobs) {
    const offsets: number[] = [];
    let at = 0;
    for (const p of pieces) {
      offsets.push(place(at));
      at += p.length;
    }
    const top = out.top ?? [];
    logprobs = {
      tokens: pieces,
      token_logprobs: out.logprobs.slice(0, pieces.length),
      top_logprobs: pieces.map((piece, k) => {
        const before = k === 0 ? promptIds[promptIds.length - 1] : out.tokens[k - 1];
        const entry: Record<string, number> = {};
        for (const t of top[k] ?? []) entry[protocol.piece(before, t.token)] = t.logprob;
        entry[piece] = out.logprobs[k];
        return entry;
      }),
      text_offset: offsets,
    };
  }
  return {
    index,
    text,
    logprobs,
    finish_reason: out.finishReason,
    stop_reason: out.stop ? out.stop.text : null,
  };
}
