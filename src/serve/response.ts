/**
 * Completion choices in the OpenAI completions layout that vLLM returns:
 *
 *   { index, text, finish_reason, stop_reason,
 *     logprobs: { tokens, token_logprobs, top_logprobs, text_offset } | null }
 *
 * - `text` leaves out the stop: EOS, or the stop sequence that ended generation (vLLM's
 *   default). `finish_reason` is 'stop' for both, 'length' at `max_tokens`; `stop_reason` is
 *   the stop string, or null for EOS and at the length limit.
 * - `logprobs.tokens` lists exactly the tokens that spell `text` (the stop's tokens are left
 *   out with it); `token_logprobs` are log-probabilities under the model's own distribution
 *   (temperature 1, like vLLM's raw logprobs); `top_logprobs[k]` maps token text to log-prob for
 *   the `logprobs` most likely tokens plus the sampled one; `text_offset[k]` is where token k
 *   starts in `text`.
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
  for (let k = 0; k < kept; k++) {
    pieces.push(protocol.piece(previous, out.tokens[k]));
    previous = out.tokens[k];
  }
  let text = pieces.join('');
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
      token_logprobs: out.logprobs.slice(0, kept),
      top_logprobs: Array.from({ length: kept }, (_, k) => {
        const before = k === 0 ? promptIds[promptIds.length - 1] : out.tokens[k - 1];
        const entry: Record<string, number> = {};
        for (const t of top[k] ?? []) entry[protocol.piece(before, t.token)] = t.logprob;
        entry[pieces[k]] = out.logprobs[k];
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
