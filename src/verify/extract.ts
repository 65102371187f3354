/**
 * Finding the answer inside model text: `\boxed{…}` contents, the text after a
 * "**Final Answer**" header, and the fallback chain used for free-form predictions.
 *
 * Everything here is linear in the input length (no backtracking regexes over the whole
 * text), so a 100k-character completion costs milliseconds.
 */

/** The header the forced summary starts with (paper's code: `"\n\n**Final Answer**\n"`). */
export const FINAL_ANSWER_HEADER = '**Final Answer**';

const BOX_COMMANDS = ['\\boxed', '\\fbox'] as const;

/**
 * Reads a brace group starting at `open` (which must index a `{`), returning the index
 * just past the matching `}` or -1 when the group never closes. Escaped braces `\{` and
 * `\}` do not count, and `\\` is skipped as a pair so `\\}` still closes.
 */
export function matchBraceGroup(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++; // skip the escaped character, whatever it is
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Index of the last occurrence of `\boxed` or `\fbox` that is a whole command name. */
function lastBoxCommand(text: string, before: number): { at: number; length: number } | null {
  let best: { at: number; length: number } | null = null;
  for (const cmd of BOX_COMMANDS) {
    let from = before;
    while (from >= 0) {
      const at = text.lastIndexOf(cmd, from);
      if (at < 0) break;
      const next = text[at + cmd.length];
      // `\boxeds` or `\fboxsep` are other commands; only `{`, whitespace or end qualify.
      if (next === undefined || next === '{' || /\s/.test(next)) {
        if (!best || at > best.at) best = { at, length: cmd.length };
        break;
      }
      from = at - 1;
    }
  }
  return best;
}

/**
 * Contents of the LAST `\boxed{…}` (or `\fbox{…}`) in `text`, with nested braces kept
 * intact; `null` when there is none.
 *
 * - `\boxed {x}` (space before the brace) is accepted.
 * - Space form `\boxed 5`: the token after the whitespace, up to the next `$` or
 *   whitespace (LaTeX's own rule for an undelimited argument, widened to a whole token
 *   because models write `\boxed 142`).
 * - Only the last box counts, as in the authors' grader: when the last box is
 *   unterminated (`… \boxed{3} … \boxed{\frac{1`), the result is `null`, not the earlier
 *   box; a summary cut off mid-answer did not commit to an answer.
 */
export function extractBoxed(text: string): string | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  const hit = lastBoxCommand(text, text.length);
  if (!hit) return null;
  let i = hit.at + hit.length;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (i >= text.length) return null;
  if (text[i] === '{') {
    const end = matchBraceGroup(text, i);
    if (end < 0) return null;
    return text.slice(i + 1, end - 1).trim();
  }
  if (i === hit.at + hit.length) return null; // `\boxedX` was excluded above; defensive
  let j = i;
  while (j < text.length && text[j] !== '$' && !/\s/.test(text[j])) j++;
  const token = text.slice(i, j);
  return token.length > 0 ? token : null;
}

/** Which rule {@link extractFinalAnswer} applies. */
export type FinalAnswerRule = 'lenient' | 'paper';

/**
 * The answer a forced summary commits to.
 *
 * `'lenient'` (forgiving, for models that do not follow the forced format exactly):
 * 1. If the text contains the header `**Final Answer**`, look at the text after the LAST
 *    header and return its last boxed answer ({@link extractBoxed}).
 * 2. Otherwise, or when that chunk has no complete box, return the last boxed answer
 *    anywhere in the text (a summary may box the answer and then repeat the header).
 * 3. `null` when there is no complete box.
 *
 * `'paper'` (the default: the authors' `match_answer_with_ground_truth`, so rewards and
 * evaluations match theirs): their summary string always begins with the forced header, so a text
 * without the header is read as if `**Final Answer**\n` were prepended. Split on blank
 * lines (`\n\n`); the FIRST paragraph that starts with `**Final Answer**\n` holds the
 * answer; the rest of that paragraph is searched for the last `\boxed{…}` (only the brace
 * form, no `\fbox`, no space form). No fallback: a box in a later paragraph scores 0.
 */
export function extractFinalAnswer(summary: string, rule: FinalAnswerRule = 'paper'): string | null {
  if (typeof summary !== 'string') return null;
  if (rule === 'paper') return extractFinalAnswerPaper(summary);
  const header = summary.lastIndexOf(FINAL_ANSWER_HEADER);
  if (header >= 0) {
    const inChunk = extractBoxed(summary.slice(header + FINAL_ANSWER_HEADER.length));
    if (inChunk !== null) return inChunk;
  }
  return extractBoxed(summary);
}

function extractFinalAnswerPaper(summary: string): string | null {
  const delimiter = FINAL_ANSWER_HEADER + '\n';
  const text = summary.includes(delimiter) ? summary : delimiter + summary;
  for (const paragraph of text.split('\n\n')) {
    if (!paragraph.startsWith(delimiter)) continue;
    const step = paragraph.slice(delimiter.length);
    const at = step.lastIndexOf('\\boxed');
    if (at < 0) return null;
    // The authors take the first balanced group from the command on and require it to
    // start with `\boxed{`.
    if (step[at + '\\boxed'.length] !== '{') return null;
    const end = matchBraceGroup(step, at + '\\boxed'.length);
    return end < 0 ? null : step.slice(at + '\\boxed{'.length, end - 1);
  }
  return null;
}

/** Where {@link extractPredictionAnswer} found the answer. */
export type AnswerSource = 'boxed' | 'answer-phrase' | 'bare' | 'math-span' | 'last-number';

const ANSWER_PHRASE = /(?:final answer|answer)\s*(?:is|:|=)\s*:?/gi;

/** Last `$…$`, `$$…$$`, `\(…\)` or `\[…\]` span (contents only), scanning left to right. */
export function lastMathSpan(text: string): string | null {
  let last: string | null = null;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '(' || next === '[') {
        const closer = next === '(' ? '\\)' : '\\]';
        const end = text.indexOf(closer, i + 2);
        if (end < 0) break;
        last = text.slice(i + 2, end);
        i = end + 2;
        continue;
      }
      i += 2; // skip `\$` and any other escape
      continue;
    }
    if (ch === '$') {
      const display = text[i + 1] === '$';
      const start = i + (display ? 2 : 1);
      let j = start;
      let end = -1;
      while (j < text.length) {
        if (text[j] === '\\') {
          j += 2;
          continue;
        }
        if (text[j] === '$' && (!display || text[j + 1] === '$')) {
          end = j;
          break;
        }
        j++;
      }
      if (end < 0) break;
      last = text.slice(start, end);
      i = end + (display ? 2 : 1);
      continue;
    }
    i++;
  }
  return last !== null && last.trim() !== '' ? last.trim() : null;
}

const NUMBER = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g;

/** Last plain number in the text (`1,000` read as one number), or null. */
export function lastNumber(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(NUMBER)) last = m[0];
  return last;
}

/**
 * A prediction that is itself an answer rather than prose: one line, no math
 * delimiters, and no plain-text word of four or more letters outside LaTeX commands and
 * `\text{…}` (unit words such as "inches" are allowed).
 */
function looksLikeBareAnswer(text: string): boolean {
  if (text.length > 2000 || text.includes('\n')) return false;
  if (/(^|[^\\])\$|\\\(|\\\[/.test(text)) return false;
  const outsideCommands = text
    .replace(/\\(?:begin|end)\s*\{[a-zA-Z*]*\}/g, ' ')
    .replace(/\\(?:text|mbox|mathrm|textbf|mathbf|textrm|operatorname)\s*\{[^{}]*\}/g, ' ')
    .replace(/\\[a-zA-Z]+/g, ' ');
  const words = outsideCommands.match(/[A-Za-z]{4,}/g) ?? [];
  return words.every((w) => UNIT_LIKE_WORDS.has(w.toLowerCase()));
}

const UNIT_LIKE_WORDS = new Set([
  'inch', 'inches', 'feet', 'foot', 'yard', 'yards', 'mile', 'miles', 'meter', 'meters', 'metre', 'metres',
  'units', 'unit', 'degree', 'degrees', 'dollar', 'dollars', 'cents', 'hour', 'hours', 'minute', 'minutes',
  'second', 'seconds', 'days', 'weeks', 'years', 'months', 'square', 'cubic', 'percent', 'radians',
]);

/**
 * The answer a free-form prediction commits to, in this order:
 * 1. the last `\boxed{…}`/`\fbox{…}` ({@link extractBoxed});
 * 2. the text after the last "answer is" / "Answer:" / "final answer is", to the end of
 *    that line (a trailing `.` is dropped later by normalisation);
 * 3. the whole text, when it is a bare answer (one line, no prose words);
 * 4. the last math span `$…$`, `$$…$$`, `\(…\)`, `\[…\]`;
 * 5. the last number.
 */
export function extractPredictionAnswer(text: string): { answer: string; source: AnswerSource } | null {
  if (typeof text !== 'string') return null;
  const boxed = extractBoxed(text);
  if (boxed !== null && boxed.trim() !== '') return { answer: boxed, source: 'boxed' };
  let phraseEnd = -1;
  for (const m of text.matchAll(ANSWER_PHRASE)) phraseEnd = (m.index ?? 0) + m[0].length;
  if (phraseEnd >= 0) {
    const lineEnd = text.indexOf('\n', phraseEnd);
    const rest = text
      .slice(phraseEnd, lineEnd < 0 ? text.length : lineEnd)
      .replace(/\*\*/g, '')
      .trim();
    if (rest !== '') return { answer: rest, source: 'answer-phrase' };
  }
  const trimmed = text.trim();
  if (trimmed !== '' && looksLikeBareAnswer(trimmed)) return { answer: trimmed, source: 'bare' };
  const span = lastMathSpan(text);
  if (span !== null) return { answer: span, source: 'math-span' };
  const num = lastNumber(text);
  if (num !== null) return { answer: num, source: 'last-number' };
  return null;
}
