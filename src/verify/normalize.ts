/** Placeholder for `\\` while single-backslash spacing rules run. */
const ROW_BREAK = '\u0000';

/**
 * String-level normalisation of a LaTeX answer before it is compared.
 *
 * The output is still LaTeX (the structural parser and the compute-engine read it); it
 * just has the presentation noise removed. Rules, in order:
 *
 * - math delimiters `$`, `\(`, `\)`, `\[`, `\]` removed; currency `\$`, `\dollar` removed;
 * - LaTeX thousands markers `1,\!000` joined first; then spacing `\!` and `\,` removed,
 *   `\;`, `\:`, `\ `, `~`, `\quad`, `\qquad` become spaces; newlines become spaces;
 * - `\dfrac`/`\tfrac`/`\cfrac` → `\frac`; `\left`, `\right` (and `\left.`), `\big…` sizing and
 *   `\displaystyle` removed; a matrix environment wrapped in brackets
 *   (`\left[\begin{array}{cc}…\end{array}\right]`) loses the brackets;
 * - degrees: `^\circ`, `^{\circ}`, `\circ`, `°`, `\degree` removed (an angle's number is
 *   kept as is: `90^\circ` equals `90`, not `\frac{\pi}{2}`);
 * - percent: `\%`, `%` and the words `percent`, `percentage`, `pct` after a number removed
 *   (see verify.ts for why `10\%` equals `10` but not `0.1`); currency signs `€ £ ¥`,
 *   `\euro`, `\pounds` removed;
 * - trailing unit text: `\text{ cm}`, `\mbox{ inches}^2`, `\text{ kcal m}^{-2}` at the
 *   end of an answer that has something before it are dropped, as are trailing unit words
 *   from a fixed list (cm, inches, feet, degrees, dollars, cents, units, hours, …) after a
 *   number or a closing brace; `\text{ or }`/`\text{ and }` become list commas;
 *   remaining `\text{…}`, `\mbox{…}`, `\mathrm{…}`, `\textbf{…}`, `\mathbf{…}` unwrap;
 * - `.5` → `0.5`; `\frac12` → `\frac{1}{2}`, `\frac{270}7` → `\frac{270}{7}`;
 *   `\sqrt3` → `\sqrt{3}`;
 * - a whole answer that is a number with thousands separators (`58,500`, `-1,000.5`,
 *   `1 000`, `14{,}912`) loses them; a group of three digits after a leading `0` is not a
 *   thousands group (`0,500` stays, read as a decimal comma by compare.ts); a comma list
 *   such as `1,2` or `(1,2)` is left alone;
 * - unicode `−`, `×`, `·`, `≤`, `≥`, `≠`, `π`, `∞`, `√` to LaTeX; `\leq`, `\leqslant`,
 *   ASCII `<=` → `\le`; `\geq`, `\geqslant`, `>=` → `\ge`; `\neq`, `!=` → `\ne`; `\lt`/`\gt`
 *   → `<`/`>`;
 *   `\infin`, `+\infty` → `\infty`;
 * - `)or(` between tuples becomes a list comma, as ` or ` does;
 * - outer `{…}` unwrapped; trailing `.` removed; whitespace collapsed;
 * - a lone choice letter `(C)`, `C`, `\text{(C)}` → `C`.
 *
 * Variable prefixes (`x = 3`, `k=`) are NOT removed here: they are handled structurally
 * (an equation whose left side is a bare name compares its right side), so `y = 2x+1`
 * still compares as an equation.
 */
export function normalizeAnswer(raw: string): string {
  let s = String(raw);
  s = s.replace(/\r?\n/g, ' ').trim();
  // Protect LaTeX line breaks `\\` (matrix rows) from the single-backslash rules below.
  s = s.replace(/\\\\/g, ROW_BREAK);
  s = s.replace(/\\dollars?(?![a-zA-Z])/g, '').replace(/\\\$/g, '');
  s = s.replace(/\$/g, '');
  s = s.replace(/\\[()[\]]/g, ' ');
  // LaTeX thousands marker: `10,\!080`, `11,\! 111` (spaces allowed after the marker).
  s = s.replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/\\[!,]/g, '');
  s = s.replace(/\\(?:qquad|quad)(?![a-zA-Z])|\\[;: ]|~/g, ' ');
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac');
  s = s.replace(/\\(?:left|right)\s*\.|\\(?:left|right)(?![a-zA-Z])/g, '');
  s = s.replace(/\\(?:big|Big|bigg|Bigg)[lrm]?(?![a-zA-Z])|\\displaystyle(?![a-zA-Z])/g, '');
  s = replaceUnicode(s);
  // Degrees and percent signs.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\circ(?![a-zA-Z])|°|\\degree(?![a-zA-Z])/g, '');
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/\\(?:text|mbox|textrm)\s*\{\s*(?:percent(?:age)?|pct)\s*\}/g, '');
  s = s.replace(/[€£¥]|\\(?:euro|pounds|yen)(?![a-zA-Z])/g, '');
  // LaTeX's `{,}` thousands marker: `14{,}912`.
  s = s.replace(/(\d)\{,\}(?=\d{3}(?!\d))/g, '$1');
  // Connectives between alternatives.
  s = s.replace(/\\(?:text|mbox|textrm|textnormal)\s*\{\s*(?:or|and)\s*\}/g, ',');
  s = stripTrailingUnitText(s);
  s = unwrapTextCommands(s);
  s = stripTrailingUnitWords(s);
  s = s.replace(/(^|\s)(?:or|and)(?=\s)/g, '$1,').replace(/([)\]])\s*or\s*(?=[([])/g, '$1,');
  s = s.replace(/(^|[^\d.])\.(\d)/g, '$10.$2');
  s = fixFracAndSqrt(s);
  s = s.replace(/\\(?:leqslant|leq)(?![a-zA-Z])/g, '\\le').replace(/\\(?:geqslant|geq)(?![a-zA-Z])/g, '\\ge');
  s = s.replace(/\\neq(?![a-zA-Z])/g, '\\ne').replace(/\\lt(?![a-zA-Z])/g, '<').replace(/\\gt(?![a-zA-Z])/g, '>');
  // ASCII relations; `5!=120` keeps its factorial (`!=` after a digit or `)` is not ≠).
  s = s.replace(/<=/g, '\\le ').replace(/>=/g, '\\ge ').replace(/(?<![\d)!])!=/g, '\\ne ');
  s = s.replace(/\\infin(?![a-zA-Z])/g, '\\infty').replace(/\+\s*\\infty/g, '\\infty');
  s = s.replace(/\s+/g, ' ').replace(/\s+!/g, '!').trim();
  s = s.replace(/[\s.]+$/, '');
  s = unwrapOuterBraces(s);
  s = s.replace(/,\s*$/, '').trim();
  if (/^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  else if (/^[+-]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  s = unwrapBracketedMatrix(s);
  s = s.split(ROW_BREAK).join('\\\\');
  const choice = /^\(?([A-E])\)?$/.exec(s);
  if (choice) s = choice[1];
  return s;
}

/**
 * A key for exact comparison: the normalised answer without spaces, with `+` signs at
 * the start dropped, and lower-cased when it is a plain word (text answers such as
 * "Evelyn" or "east" compare case-insensitively).
 */
export function answerKey(normalized: string): string {
  let k = normalized.replace(/\s+/g, '');
  k = k.replace(/^\+/, '');
  if (/^[A-Za-z][A-Za-z ]*$/.test(normalized) && normalized.length > 1) k = k.toLowerCase();
  return k;
}

function replaceUnicode(s: string): string {
  return s
    .replace(/[−–]/g, '-')
    .replace(/×/g, '\\times ')
    .replace(/[·⋅]/g, '\\cdot ')
    .replace(/≤/g, '\\le ')
    .replace(/≥/g, '\\ge ')
    .replace(/≠/g, '\\ne ')
    .replace(/π/g, '\\pi ')
    .replace(/∞/g, '\\infty ')
    .replace(/√/g, '\\sqrt ')
    .replace(/∪/g, '\\cup ');
}

const TEXT_COMMANDS = 'text|mbox|textrm|textnormal|textbf|textit|mathrm|mathbf|mathit|boldsymbol|mathsf';

/**
 * Drops `\text{…}` blocks (and an exponent right after them) from the END of the answer
 * while something non-empty stays in front: `\frac{270}7\text{ degrees}`, `864 \mbox{
 * inches}^2`, `15000 \text{ kcal m}^{-2} \text{yr}^{-1}`. A text-only answer such as
 * `\text{Evelyn}` is kept. `\mathrm{…}` counts only with two or more letters (`\mathrm{e}`
 * is Euler's number, `\mathrm{cm}` a unit).
 */
function stripTrailingUnitText(s: string): string {
  const trailing = new RegExp(
    `\\\\(?:text|mbox|textrm|textnormal|mathrm)\\s*\\{\\s*([A-Za-z][A-Za-z .]*)\\}(?:\\s*\\^\\s*(?:\\{[^{}]*\\}|-?\\d))?\\s*$`,
  );
  for (let guard = 0; guard < 8; guard++) {
    const m = trailing.exec(s);
    if (!m) break;
    const before = s.slice(0, m.index).trim();
    if (before === '' || !/[\d}]/.test(before)) break;
    if (m[0].startsWith('\\mathrm') && m[1].trim().length < 2) break;
    s = before;
  }
  return s;
}

/** `\text{X}` → `X` for the text-like commands (one brace level, innermost first). */
function unwrapTextCommands(s: string): string {
  const re = new RegExp(`\\\\(?:${TEXT_COMMANDS})\\s*\\{([^{}]*)\\}`, 'g');
  for (let guard = 0; guard < 8 && re.test(s); guard++) {
    re.lastIndex = 0;
    s = s.replace(re, (_m, inner: string) => inner);
  }
  return s;
}

const UNIT_WORDS = [
  'square units', 'sq units', 'square feet', 'square inches', 'square meters', 'square centimeters',
  'sq ft', 'cubic feet', 'cubic inches', 'cubic units', 'cubic meters', 'cubic centimeters',
  'centimeters', 'centimetres', 'centimeter', 'millimeters', 'millimeter', 'kilometers', 'kilometer',
  'meters', 'metres', 'meter', 'metre', 'inches', 'inch', 'feet', 'foot', 'ft', 'yards', 'yard', 'miles', 'mile',
  'cm', 'mm', 'km', 'kg', 'mph',
  'degrees', 'degree', 'deg', 'radians', 'dollars', 'dollar', 'cents', 'cent', 'percentage', 'percent', 'per cent', 'pct',
  'units', 'unit', 'seconds', 'second', 'sec', 'minutes', 'minute', 'min', 'hours', 'hour', 'hrs', 'hr',
  'days', 'day', 'weeks', 'week', 'months', 'month', 'years', 'year', 'people', 'students', 'ways',
];
const UNIT_WORD_RE = new RegExp(
  `([\\d}).])\\s*(?:${UNIT_WORDS.map((w) => w.replace(/ /g, '\\s+')).join('|')})(?:\\s*\\^\\s*(?:\\{\\d\\}|\\d))?\\s*$`,
  'i',
);

/** Drops a trailing unit word written as plain text after a number: `12 cm`, `5 dollars`. */
function stripTrailingUnitWords(s: string): string {
  for (let guard = 0; guard < 4; guard++) {
    const m = UNIT_WORD_RE.exec(s);
    if (!m) break;
    s = s.slice(0, m.index + m[1].length);
  }
  return s;
}

/** Reads one macro argument at `i`: a brace group, a command name, or one character. */
function readArgument(s: string, i: number): { text: string; end: number; braced: boolean } | null {
  while (i < s.length && s[i] === ' ') i++;
  if (i >= s.length) return null;
  if (s[i] === '{') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      if (s[j] === '\\') {
        j++;
        continue;
      }
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0) return { text: s.slice(i + 1, j), end: j + 1, braced: true };
    }
    return null;
  }
  if (s[i] === '\\') {
    const m = /^\\[a-zA-Z]+/.exec(s.slice(i, i + 40));
    if (m) return { text: m[0], end: i + m[0].length, braced: false };
    return null;
  }
  if (/[}\]^_&]/.test(s[i])) return null;
  return { text: s[i], end: i + 1, braced: false };
}

/** `\frac12` → `\frac{1}{2}`, `\frac{270}7` → `\frac{270}{7}`, `\sqrt3` → `\sqrt{3}`. */
function fixFracAndSqrt(s: string): string {
  if (!s.includes('\\frac') && !s.includes('\\sqrt')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('\\frac', i) && !/[a-zA-Z]/.test(s[i + 5] ?? '')) {
      const a = readArgument(s, i + 5);
      const b = a ? readArgument(s, a.end) : null;
      if (a && b) {
        out += `\\frac{${fixFracAndSqrt(a.text)}}{${fixFracAndSqrt(b.text)}}`;
        i = b.end;
        continue;
      }
    } else if (s.startsWith('\\sqrt', i) && !/[a-zA-Z]/.test(s[i + 5] ?? '')) {
      let j = i + 5;
      let index = '';
      while (s[j] === ' ') j++;
      if (s[j] === '[') {
        const close = s.indexOf(']', j);
        if (close > 0) {
          index = s.slice(j, close + 1);
          j = close + 1;
        }
      }
      const a = readArgument(s, j);
      if (a) {
        out += `\\sqrt${index}{${fixFracAndSqrt(a.text)}}`;
        i = a.end;
        continue;
      }
    }
    out += s[i];
    i++;
  }
  return out;
}

const BRACKETED_MATRIX = /^[[(]\s*(\\begin\{([a-zA-Z]*matrix|array)\}[\s\S]*\\end\{\2\})\s*[\])]$/;

/**
 * `[\begin{array}{cc}…\end{array}]` (what `\left[…\right]` leaves) → the environment: the
 * brackets only draw the matrix. Only when the brackets hold exactly one environment.
 */
function unwrapBracketedMatrix(s: string): string {
  const m = BRACKETED_MATRIX.exec(s);
  if (!m || m[1].indexOf('\\begin', 1) >= 0) return s;
  return m[1];
}

/** Removes `{…}` around the whole answer (repeatedly), but not `\{…\}` set braces. */
function unwrapOuterBraces(s: string): string {
  for (let guard = 0; guard < 8; guard++) {
    if (!(s.startsWith('{') && s.endsWith('}')) || s.endsWith('\\}')) break;
    let depth = 0;
    let closesAtEnd = true;
    for (let j = 0; j < s.length; j++) {
      if (s[j] === '\\') {
        j++;
        continue;
      }
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0 && j < s.length - 1) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    s = s.slice(1, -1).trim();
  }
  return s;
}
