/**
 * Evaluation data: a JSON array or JSONL file of `{ problem, answer }` records (extra fields
 * such as `id` are kept). Every record is checked before any request is sent, and a bad one
 * is reported by its line (JSONL) or index (JSON array) and field.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../core/errors.js';

export interface EvalProblem {
  /** Position in the data file (0-based), the stable key for results. */
  index: number;
  /** `id` from the record when present, else the index as text. */
  id: string;
  problem: string;
  /** Gold answer as text (numbers in the file are converted). */
  answer: string;
}

/** Parses data text: a JSON array when it starts with `[`, otherwise JSON Lines. */
export function parseProblems(text: string, source = 'data'): EvalProblem[] {
  const trimmed = text.trimStart();
  const records: { value: unknown; where: string }[] = [];
  if (trimmed.startsWith('[')) {
    let array: unknown;
    try {
      array = JSON.parse(trimmed);
    } catch (e) {
      fail(source, `is not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(array)) fail(source, 'must be a JSON array of { problem, answer } objects');
    array.forEach((value, i) => records.push({ value, where: `${source} [index ${i}]` }));
  } else {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        fail(`${source} line ${i + 1}`, `is not valid JSON (${(e as Error).message})`);
      }
      records.push({ value, where: `${source} line ${i + 1}` });
    });
  }
  if (records.length === 0) fail(source, 'contains no problems');
  return records.map(({ value, where }, index) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, 'must be an object with fields "problem" and "answer"');
    const rec = value as Record<string, unknown>;
    if (!('problem' in rec)) fail(where, 'is missing the field "problem"');
    if (typeof rec.problem !== 'string' || rec.problem.trim() === '') fail(`${where} field "problem"`, `must be a non-empty string, got ${JSON.stringify(rec.problem)}`);
    if (!('answer' in rec)) fail(where, 'is missing the field "answer"');
    const answer = typeof rec.answer === 'number' && Number.isFinite(rec.answer) ? String(rec.answer) : rec.answer;
    if (typeof answer !== 'string' || answer.trim() === '') fail(`${where} field "answer"`, `must be a non-empty string or a number, got ${JSON.stringify(rec.answer)}`);
    const id = typeof rec.id === 'string' || typeof rec.id === 'number' ? String(rec.id) : String(index);
    return { index, id, problem: rec.problem, answer };
  });
}

/** Reads and checks a data file (see `parseProblems`). */
export function loadProblems(path: string): EvalProblem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail('--data', `cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseProblems(text, path);
}
