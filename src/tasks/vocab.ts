/**
 * The small symbolic vocabulary shared by the synthetic tasks, and its tokenizer.
 *
 * Every task uses the same 24 tokens (the six SPECIAL_TOKENS, the digits 0-9, three
 * operators and five punctuation marks), so one policy architecture and one embedding size
 * fit every task. Numbers are written one digit per token ("56" is ['5', '6']).
 *
 * Text form: `decode` separates tokens by one space, except that consecutive digits are
 * joined so multi-digit numbers read naturally ("7 * 8 = 56 ;"). `encode` skips whitespace
 * and reads the longest vocabulary entry at each position, so `encode(decode(ids))` gives
 * back `ids` for every id sequence.
 */
import { fail } from '../core/errors.js';
import { SPECIAL_TOKENS } from './types.js';

/** Non-special symbols, in id order after the six special tokens. */
export const SYMBOLS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-', '*', '=', ';', ',', ':', '?'] as const;

/** The shared vocabulary: index = token id. */
export const SYMBOLIC_VOCAB: readonly string[] = [...SPECIAL_TOKENS, ...SYMBOLS];

const FIRST_DIGIT = SPECIAL_TOKENS.length;

/** Token ids of the non-digit symbols. */
export const TOKEN = {
  PLUS: SYMBOLIC_VOCAB.indexOf('+'),
  MINUS: SYMBOLIC_VOCAB.indexOf('-'),
  TIMES: SYMBOLIC_VOCAB.indexOf('*'),
  EQUALS: SYMBOLIC_VOCAB.indexOf('='),
  /** End of one line of work in a trace. */
  SEMI: SYMBOLIC_VOCAB.indexOf(';'),
  /** Separates the given numbers of a Countdown prompt. */
  COMMA: SYMBOLIC_VOCAB.indexOf(','),
  /** Introduces the Countdown target. */
  COLON: SYMBOLIC_VOCAB.indexOf(':'),
  /** Last token of every prompt: "your turn to think". */
  QUERY: SYMBOLIC_VOCAB.indexOf('?'),
} as const;

export type Op = '+' | '-' | '*';
export const OPS: readonly Op[] = ['+', '-', '*'];

/** Token id of a single digit 0-9. */
export function digitToken(d: number): number {
  if (!Number.isInteger(d) || d < 0 || d > 9) fail('digit', `must be an integer 0-9, got ${String(d)}`);
  return FIRST_DIGIT + d;
}

/** The digit a token stands for, or -1 when it is not a digit. */
export function tokenDigit(id: number): number {
  const d = id - FIRST_DIGIT;
  return d >= 0 && d <= 9 && Number.isInteger(d) ? d : -1;
}

/** Tokens of a non-negative integer, one per digit. */
export function numberTokens(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) fail('number', `must be a non-negative integer, got ${String(n)}`);
  return String(n)
    .split('')
    .map((c) => FIRST_DIGIT + Number(c));
}

/** Token id of an operator. */
export function opToken(op: Op): number {
  return op === '+' ? TOKEN.PLUS : op === '-' ? TOKEN.MINUS : TOKEN.TIMES;
}

/** The operator a token stands for, or null. */
export function tokenOp(id: number): Op | null {
  return id === TOKEN.PLUS ? '+' : id === TOKEN.MINUS ? '-' : id === TOKEN.TIMES ? '*' : null;
}

/**
 * Reads the maximal run of digit tokens starting at `start`.
 * Returns the number and the index just past it, or null when `tokens[start]` is not a digit.
 */
export function readNumber(tokens: ArrayLike<number>, start: number): { value: number; end: number } | null {
  let i = start;
  let value = 0;
  while (i < tokens.length && tokenDigit(tokens[i]) >= 0) {
    value = value * 10 + tokenDigit(tokens[i]);
    i++;
  }
  return i === start ? null : { value, end: i };
}

/** Tokenizer over a vocabulary: see the module comment for the text form. */
export interface Codec {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** Builds the longest-match tokenizer for `vocab` (entries must be non-empty and free of whitespace). */
export function makeCodec(vocab: readonly string[]): Codec {
  const index = new Map<string, number>();
  vocab.forEach((tok, id) => {
    if (tok.length === 0 || /\s/.test(tok)) fail(`vocab[${id}]`, `must be non-empty without whitespace, got '${tok}'`);
    if (index.has(tok)) fail(`vocab[${id}]`, `duplicates vocab[${index.get(tok)}] ('${tok}')`);
    index.set(tok, id);
  });
  const longest = Math.max(...vocab.map((t) => t.length));
  const isDigit = (id: number) => /^[0-9]$/.test(vocab[id]);

  function encode(text: string): number[] {
    if (typeof text !== 'string') fail('text', `must be a string, got ${typeof text}`);
    const ids: number[] = [];
    let i = 0;
    while (i < text.length) {
      if (/\s/.test(text[i])) {
        i++;
        continue;
      }
      let matched = -1;
      let len = Math.min(longest, text.length - i);
      for (; len > 0; len--) {
        const id = index.get(text.slice(i, i + len));
        if (id !== undefined) {
          matched = id;
          break;
        }
      }
      if (matched < 0) {
        fail('text', `unknown token at position ${i} ('${text.slice(i, i + 8)}'); allowed tokens: ${vocab.join(' ')}`);
      }
      ids.push(matched);
      i += len;
    }
    return ids;
  }

  function decode(ids: ArrayLike<number>): string {
    let out = '';
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (!Number.isInteger(id) || id < 0 || id >= vocab.length) {
        fail(`ids[${k}]`, `must be an integer token id in 0..${vocab.length - 1}, got ${String(id)}`);
      }
      if (k > 0 && !(isDigit(id) && isDigit(ids[k - 1]))) out += ' ';
      out += vocab[id];
    }
    return out;
  }

  return { encode, decode };
}

/** The tokenizer of SYMBOLIC_VOCAB. */
export const symbolicCodec: Codec = makeCodec(SYMBOLIC_VOCAB);

/**
 * Summary tokens up to (not including) the first EOS. Scoring looks only at these, as the
 * paper's verifier looks only at the text before the end of the sequence.
 */
export function beforeEos(summary: ArrayLike<number>, eos: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < summary.length && summary[i] !== eos; i++) out.push(summary[i]);
  return out;
}
