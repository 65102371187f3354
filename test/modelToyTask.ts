/**
 * A tiny but real task for the model tests: the prompt is 2–5 digits; the teacher thinks by
 * copying them; the answer is the sum of the digits mod 10. A teacher summary from a cut trace
 * answers from the digits it has seen.
 */
import { randInt, type Rng } from '../src/core/rng.js';
import { SPECIAL, SPECIAL_TOKENS, type Task, type TaskProblem } from '../src/tasks/types.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const VOCAB = [...SPECIAL_TOKENS, ...DIGITS];
const digitId = (d: number): number => SPECIAL_TOKENS.length + d;
const digitOf = (id: number): number => id - SPECIAL_TOKENS.length;

export const toyTask: Task = {
  name: 'toy-digit-sum',
  vocab: VOCAB,
  maxPromptLength: 5,
  maxThinking: 8,
  summaryMaxTokens: 3,
  sample(rng: Rng): TaskProblem {
    const n = randInt(rng, 2, 5);
    const digits = Array.from({ length: n }, () => randInt(rng, 0, 9));
    const answer = String(digits.reduce((a, b) => a + b, 0) % 10);
    return { id: `toy-${digits.join('')}`, prompt: digits.map(digitId), answer, data: { digits } };
  },
  teacherTrace(problem: TaskProblem): number[] {
    return [...problem.prompt];
  },
  teacherSummary(_problem: TaskProblem, thinking: number[]): number[] {
    const seen = thinking.filter((t) => t >= SPECIAL_TOKENS.length).map(digitOf);
    return [digitId(seen.reduce((a, b) => a + b, 0) % 10)];
  },
  score(problem: TaskProblem, summary: number[]): 0 | 1 {
    const end = summary.indexOf(SPECIAL.EOS);
    const body = end === -1 ? summary : summary.slice(0, end);
    return body.length === 1 && body[0] === digitId(Number(problem.answer)) ? 1 : 0;
  },
  encode(text: string): number[] {
    return [...text].map((c) => digitId(Number(c)));
  },
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => VOCAB[i] ?? '?').join('');
  },
};
