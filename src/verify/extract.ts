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

/** One complete box in a text: its contents and where the command starts and ends. */
interface Box {
  answer: string;
  start: number;
  end: number;
}

/** Reads the box whose command starts at `at` (name length `length`); null when unterminated or empty. */
function readBox(text: string, at: number, length: number): Box | null {
  let i = at + length;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (i >= text.length) return null;
  if (text[i] === '{') {
    const end = matchBraceGroup(text, i);
    return end < 0 ? null : { answer: text.slice(i + 1, end - 1).trim(), start: at, end };
  }
  if (i === at + length) return null;
  let j = i;
  while (j < text.length && text[j] !== '$' && !/\s/.test(text[j])) j++;
  return j > i ? { answer: text.slice(i, j), start: at, end: j } : null;
}

/**
 * Whether two boxes separated by `gap` give one answer together. The gap may hold spaces,
 * punctuation other than a sentence end, math delimiters, spacing commands, `\text{…}`,
 * labels such as `x =` or `y_2 =`, and at most {@link MAX_CONNECTOR_WORDS} words besides
 * "and"/"or" (`\boxed{1} papers and \boxed{2}`, `\boxed{(3,3)} \text{ for part (a) and }
 * \boxed{(1,1)}`); a sentence end or more words make the earlier box an intermediate result.
 */
function joinsBoxes(gap: string): boolean {
  if (gap.length > MAX_CONNECTOR_CHARS || /[.!?](?:\s|$)/.test(gap)) return false;
  const rest = gap
    .replace(/\\(?:text|mbox|textrm|mathrm)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\\(?:quad|qquad)(?![a-zA-Z])|\\[,;: !()[\]]|\\\\|\$/g, ' ')
    .replace(/(?:[A-Za-z]|\\[a-zA-Z]+)(?:_\{?[A-Za-z0-9]+\}?)?\s*=/g, ' ')
    .replace(/[,;:&()]/g, ' ');
  if (!/^[\sA-Za-z]*$/.test(rest)) return false;
  const words = (rest.match(/[A-Za-z]+/g) ?? []).filter((w) => w !== 'and' && w !== 'or');
  return words.length <= MAX_CONNECTOR_WORDS;
}
const MAX_CONNECTOR_WORDS = 4;
const MAX_CONNECTOR_CHARS = 60;
/** Boxes inside boxes unwrapped at most this deep (each level rescans its contents). */
const MAX_NESTED_BOXES = 4;

/**
 * The answers of the last group of boxes: the last `\boxed{…}`/`\fbox{…}` together with
 * the boxes right before it that only connectors separate (`\boxed{3} and \boxed{5}`,
 * `\boxed{(0,1)}, \boxed{(1,0)}`, `\boxed{3}\boxed{5}`, `$x=\boxed{1}$ or $x=\boxed{2}$`). A
 * box earlier in the text with prose after it (an intermediate result) is not part of
 * the answer. Null when there is no box or the last box is unterminated (as
 * {@link extractBoxed}); empty boxes are dropped.
 */
export function extractBoxedGroup(text: string, depth = 0): string[] | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  const last = lastBoxCommand(text, text.length);
  if (!last) return null;
  const boxes: Box[] = [];
  let from = 0;
  for (const hit of boxCommands(text)) {
    if (hit.at < from) continue; // a box nested inside the previous one belongs to it
    const box = readBox(text, hit.at, hit.length);
    if (box === null) {
      if (hit.at === last.at) return null; // the last box is unterminated
      continue;
    }
    boxes.push(box);
    from = box.end;
  }
  if (boxes.length === 0) return null;
  let first = boxes.length - 1;
  while (first > 0) {
    const gap = text.slice(boxes[first - 1].end, boxes[first].start);
    if (!joinsBoxes(gap)) break;
    first--;
  }
  // A box drawn inside a box (`\boxed{\fbox{4}}`) is the same answer.
  const answers = boxes
    .slice(first)
    .map((b) =>
      depth < MAX_NESTED_BOXES && (b.answer.includes('\\boxed') || b.answer.includes('\\fbox'))
        ? (extractBoxedGroup(b.answer, depth + 1)?.join('; ') ?? b.answer)
        : b.answer,
    )
    .filter((a) => a !== '');
  return answers.length > 0 ? answers : null;
}

/** Every `\boxed`/`\fbox` that is a whole command name, in order (one pass per command). */
function boxCommands(text: string): { at: number; length: number }[] {
  const hits: { at: number; length: number }[] = [];
  for (const cmd of BOX_COMMANDS) {
    for (let at = text.indexOf(cmd); at >= 0; at = text.indexOf(cmd, at + cmd.length)) {
      const next = text[at + cmd.length];
      if (next === undefined || next === '{' || /\s/.test(next)) hits.push({ at, length: cmd.length });
    }
  }
  return hits.sort((x, y) => x.at - y.at);
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
export type AnswerSource = 'boxed' | 'boxed-list' | 'answer-phrase' | 'bare' | 'conclusion' | 'math-span' | 'last-number';

/** "answer is", "Answer:", "final answer is", and GSM8K's `####` marker. */
const ANSWER_PHRASE = /(?:final answer|answer)\s*(?:is|:|=)\s*:?|####/gi;

/** A math span or a number in prose, with its position. */
interface Candidate {
  text: string;
  start: number;
  end: number;
  kind: 'math-span' | 'last-number';
}

/**
 * A number in prose: digits with `,` groups and a decimal part, not touching a letter or
 * another digit (so `QX7B` and `v2` hold no number), optionally signed.
 */
const PROSE_NUMBER = /(?<![A-Za-z0-9_.\\])-?(?:\d+(?:,\d+)*(?:\.\d+)?|\.\d+)(?![A-Za-z0-9_])/g;

/**
 * Scans prose once: math spans (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`), numbers outside them,
 * and sentence ends outside them (`.`, `!`, `?` before whitespace or the end, not a
 * decimal point; line breaks). Linear in the text length.
 */
function scanProse(text: string): { candidates: Candidate[]; sentenceEnds: number[] } {
  const candidates: Candidate[] = [];
  const sentenceEnds: number[] = [];
  let plainFrom = 0;
  const lastDisplay = text.lastIndexOf('$$');
  const flushPlain = (to: number) => {
    const plain = text.slice(plainFrom, to);
    for (const m of plain.matchAll(PROSE_NUMBER)) {
      const start = plainFrom + (m.index ?? 0);
      candidates.push({ text: m[0], start, end: start + m[0].length, kind: 'last-number' });
    }
    for (let k = 0; k < plain.length; k++) {
      const ch = plain[k];
      if (ch === '\n' || ((ch === '.' || ch === '!' || ch === '?') && (k + 1 >= plain.length || /\s/.test(plain[k + 1])))) {
        sentenceEnds.push(plainFrom + k);
      }
    }
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    let open = 0;
    let closer = '';
    if (ch === '\\' && (text[i + 1] === '(' || text[i + 1] === '[')) {
      open = 2;
      closer = text[i + 1] === '(' ? '\\)' : '\\]';
    } else if (ch === '\\') {
      i += 2;
      continue;
    } else if (ch === '$') {
      // `$$` opens display math only when a `$$` closes it (`$$x$` is an empty span, then `x$`).
      open = text[i + 1] === '$' && lastDisplay > i + 1 ? 2 : 1;
      closer = open === 2 ? '$$' : '$';
    }
    if (open === 0) {
      i++;
      continue;
    }
    const end = findCloser(text, i + open, closer);
    if (end < 0) break;
    flushPlain(i);
    const inner = text.slice(i + open, end).trim();
    if (inner !== '') candidates.push({ text: inner, start: i, end: end + closer.length, kind: 'math-span' });
    i = end + closer.length;
    plainFrom = i;
  }
  flushPlain(text.length);
  return { candidates, sentenceEnds };
}

/** Index of `closer` at or after `from`, skipping escaped characters inside `$` spans. */
function findCloser(text: string, from: number, closer: string): number {
  if (closer.startsWith('\\')) return text.indexOf(closer, from);
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text.startsWith(closer, j)) return j;
  }
  return -1;
}

/** Last `$…$`, `$$…$$`, `\(…\)` or `\[…\]` span (contents only), scanning left to right. */
export function lastMathSpan(text: string): string | null {
  const spans = scanProse(text).candidates.filter((c) => c.kind === 'math-span');
  return spans.length > 0 ? spans[spans.length - 1].text : null;
}

/** Last number in prose (`1,000` read as one number, digits inside words ignored), or null. */
export function lastNumber(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(PROSE_NUMBER)) last = m[0];
  return last;
}

/** What may join the values of one answer in prose: commas, "and", "or". */
const SPAN_CONNECTOR = /^(?:\s|,|;|\band\b|\bor\b)*$/;

/** A value right after these is denied, not stated. */
const NEGATION = /(?:^|[^A-Za-z])(?:not|never|isn't|aren't|cannot|can't)\s*[:=]?\s*$/i;

/** Words that state a result: "… is 17", "… are $3$ and $5$", "… equals $\frac12$". */
const COPULA = /(?:^|[^A-Za-z])(?:is|are|equals|equal to|be|becomes)\s*[:=]?\s*$/i;

/**
 * The answer stated at the end of prose: the last sentence that holds a math span or a
 * number; in it, the value right after the last copula that is directly followed by one
 * ("So the smallest $k$ that works is 17." → `17`, not `k`; "The probability is
 * $\frac16$, which is less than $\frac12$." → `\frac16`), else its last span or number.
 */
function finalStatement(text: string): { answer: string; source: AnswerSource } | null {
  const { candidates, sentenceEnds } = scanProse(text);
  if (candidates.length === 0) return null;
  const last = candidates[candidates.length - 1];
  let sentenceStart = 0;
  for (const e of sentenceEnds) if (e < last.start) sentenceStart = e + 1;
  const kept: Candidate[] = [];
  let stated = -1;
  let prevEnd = sentenceStart;
  for (const c of candidates) {
    if (c.start < sentenceStart) continue;
    const before = text.slice(prevEnd, c.start);
    prevEnd = c.end;
    if (NEGATION.test(before)) continue; // "the answer is not 5" states no 5
    if (COPULA.test(before)) stated = kept.length;
    kept.push(c);
  }
  if (kept.length === 0) return null;
  // Values joined only by "and", "or" or commas are one answer: "are $x=1$ and $x=-1$".
  const joined = (k: number) => k > 0 && SPAN_CONNECTOR.test(text.slice(kept[k - 1].end, kept[k].start));
  if (stated >= 0) {
    let end = stated;
    while (end + 1 < kept.length && joined(end + 1)) end++;
    return { answer: kept.slice(stated, end + 1).map((c) => c.text).join('; '), source: 'conclusion' };
  }
  let start = kept.length - 1;
  while (joined(start)) start--;
  return { answer: kept.slice(start).map((c) => c.text).join('; '), source: kept[kept.length - 1].kind };
}

const WORD_AT = /[A-Za-z]+/y;

/**
 * The answer at the start of the text after an answer phrase: math spans, numbers,
 * LaTeX, short names, `and`/`or` and unit words, up to the first other word or the end of
 * the sentence ("9, since $3^2=9$." → `9`; "12 apples" → `12`). Empty when the phrase is
 * followed by prose ("The largest $n$ is 34.").
 */
function leadingAnswer(rest: string): string {
  const lastDisplay = rest.lastIndexOf('$$');
  let i = 0;
  let lastGood = 0;
  while (i < rest.length) {
    const ch = rest[i];
    if (ch === '$' || (ch === '\\' && (rest[i + 1] === '(' || rest[i + 1] === '['))) {
      const open = ch === '$' ? (rest[i + 1] === '$' && lastDisplay > i + 1 ? 2 : 1) : 2;
      const closer = ch === '$' ? '$'.repeat(open) : rest[i + 1] === '(' ? '\\)' : '\\]';
      const end = findCloser(rest, i + open, closer);
      if (end < 0) break;
      i = end + closer.length;
      lastGood = i;
      continue;
    }
    if (ch === '\n' || ((ch === '.' || ch === '!' || ch === '?') && (i + 1 >= rest.length || /\s/.test(rest[i + 1])))) break;
    if (ch === '\\') {
      const m = /^\\(?:[a-zA-Z]+|.)/.exec(rest.slice(i, i + 40));
      i += m ? m[0].length : 1;
      lastGood = i;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      WORD_AT.lastIndex = i;
      const word = WORD_AT.exec(rest)![0];
      const lower = word.toLowerCase();
      if (word.length > 2 && lower !== 'and' && !UNIT_LIKE_WORDS.has(lower)) break;
      i += word.length;
      lastGood = i;
      continue;
    }
    i++;
    if (!/\s/.test(ch)) lastGood = i;
  }
  return rest
    .slice(0, lastGood)
    .replace(/[\s,;:]+$/, '')
    .trim();
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
  'second', 'seconds', 'days', 'weeks', 'years', 'months', 'square', 'cubic', 'percent', 'percentage', 'radians',
]);

/**
 * The answer a free-form prediction commits to, in this order:
 * 1. the last group of boxes ({@link extractBoxedGroup}): one box (`boxed`), or several
 *    joined only by connectors, read together as a list (`boxed-list`);
 * 2. after the last "answer is" / "Answer:" / "final answer is" / `####`: the answer that starts
 *    there ({@link leadingAnswer}), or, when prose follows the phrase, the value that
 *    prose states ("Final Answer: The largest $n$ is 34." → `34`);
 * 3. the whole text, when it is a bare answer (one line, no prose words);
 * 4. the value stated in the last sentence that holds a math span or a number
 *    (`conclusion` after "is"/"are"/"equals"…, else `math-span` or `last-number`).
 */
export function extractPredictionAnswer(text: string): { answer: string; source: AnswerSource } | null {
  if (typeof text !== 'string') return null;
  const boxes = extractBoxedGroup(text);
  if (boxes !== null) {
    return boxes.length === 1 ? { answer: boxes[0], source: 'boxed' } : { answer: boxes.join('; '), source: 'boxed-list' };
  }
  let phraseEnd = -1;
  for (const m of text.matchAll(ANSWER_PHRASE)) phraseEnd = (m.index ?? 0) + m[0].length;
  if (phraseEnd >= 0) {
    const rest = text.slice(phraseEnd).replace(/\*\*/g, '').trimStart();
    const leading = leadingAnswer(rest);
    if (leading !== '') return { answer: leading, source: 'answer-phrase' };
    const stated = finalStatement(rest.split('\n', 1)[0]);
    if (stated !== null) return { answer: stated.answer, source: 'answer-phrase' };
  }
  const trimmed = text.trim();
  if (trimmed !== '' && looksLikeBareAnswer(trimmed)) return { answer: trimmed, source: 'bare' };
  return finalStatement(text);
}
