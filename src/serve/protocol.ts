/**
 * The text protocol of `anytime serve`: how prompt text becomes token ids of a tiny task's
 * vocabulary, and how generated ids become text.
 *
 * Prompts. The task codec reads text token by token (longest vocabulary entry first, whitespace
 * skipped), and the special tokens are vocabulary entries with fixed spellings:
 *
 *   '<bos>' BOS   '<eos>' EOS   '</think>' THINK_END   '<answer>' ANSWER   '...' ELLIPSIS
 *
 * The paper's protocol strings (the defaults of `anytime eval`) are not all spellable in that
 * vocabulary, so before encoding the server applies a *text map*, a list of literal
 * replacements. The `paper` map (the default) rewrites exactly the eval's default strings:
 *
 *   prompt template head  "<｜begin▁of▁sentence｜><｜User｜>"          → "<bos>"
 *   prompt template tail  "\nLet's think step by step … <think>\n"    → ""  (no words for it)
 *   cut suffix            "...\n\n...\n\n</think>"                    → "... </think>"
 *   answer header         "**Final Answer**" (its newlines are spaces) → "<answer>"
 *
 * so a forced summary prompt ends in [ELLIPSIS, THINK_END, ANSWER] after a cut trace and in
 * [THINK_END, ANSWER] after a finished one: the forcing tokens the policy was trained with
 * (`forcingTokens` in src/tasks/types.ts). The `none` map applies no replacement; then send
 * the vocabulary's own spellings (e.g. eval's `--prompt-template '{problem}'
 * --force-cut ' ... </think>' --force-answer ' <answer>'`). BOS is prepended to every prompt
 * that does not already start with it. Stop strings are encoded the same way (without BOS).
 *
 * Output text. Token k's text is what the codec's `decode` adds for it after the token before
 * it (a space, except between two digits, then the token's spelling), so the tokens returned in
 * `logprobs.tokens` spell `text` exactly and re-encoding `prompt + text` gives back the ids.
 */
import { AnytimeInputError, fail } from '../core/errors.js';
import { SPECIAL, type Task } from '../tasks/types.js';
import { DEFAULT_FORCE_ANSWER, DEFAULT_FORCE_CUT, DEFAULT_PROMPT_TEMPLATE, DEFAULT_THINK_END } from '../eval/planner.js';

/** An ordered list of literal `[from, to]` replacements applied to prompt text before encoding. */
export type TextMap = readonly (readonly [string, string])[];

/** The eval's default prompt template, split around its `{problem}` placeholder. */
function templateParts(): [string, string] {
  const at = DEFAULT_PROMPT_TEMPLATE.indexOf('{problem}');
  return [DEFAULT_PROMPT_TEMPLATE.slice(0, at), DEFAULT_PROMPT_TEMPLATE.slice(at + '{problem}'.length)];
}

/** Named text maps (see the module comment). Longer strings first: they are replaced in order. */
export const TEXT_MAPS: Readonly<Record<'paper' | 'none', TextMap>> = {
  paper: [
    [templateParts()[0], ' <bos> '],
    [templateParts()[1], ' '],
    [DEFAULT_FORCE_CUT, ' ... ' + DEFAULT_THINK_END + ' '],
    [DEFAULT_FORCE_ANSWER.trim(), ' <answer> '],
  ],
  none: [],
};

export const TEXT_MAP_NAMES = Object.keys(TEXT_MAPS) as (keyof typeof TEXT_MAPS)[];

/** Applies every replacement of `map`, in order, to all occurrences. */
export function applyTextMap(text: string, map: TextMap): string {
  let out = text;
  for (const [from, to] of map) if (from !== '') out = out.split(from).join(to);
  return out;
}

/** A task's codec plus the server's text map. */
export interface TextProtocol {
  /** Token strings; index = id. */
  readonly vocab: readonly string[];
  /** Prompt text → ids, BOS first. Throws AnytimeInputError('text') for text the vocabulary cannot spell. */
  encodePrompt(text: string): number[];
  /** Stop string → ids (no BOS); throws for text the vocabulary cannot spell or that encodes to nothing. */
  encodeStop(text: string): number[];
  /** Text that token `id` adds after token `previous` (see the module comment). */
  piece(previous: number, id: number): string;
}

/** Builds the protocol of `task` with the given text map. */
export function makeProtocol(task: Pick<Task, 'vocab' | 'encode' | 'decode'>, map: TextMap): TextProtocol {
  const encode = (text: string): number[] => task.encode(applyTextMap(text, map));
  const pieces = new Map<number, string>();
  return {
    vocab: task.vocab,
    encodePrompt(text) {
      const ids = encode(text);
      return ids[0] === SPECIAL.BOS ? ids : [SPECIAL.BOS, ...ids];
    },
    encodeStop(text) {
      const ids = encode(text);
      if (ids.length === 0) fail('text', `${JSON.stringify(text)} is only whitespace (or mapped to nothing) and can never be generated`);
      return ids;
    },
    piece(previous, id) {
      const key = previous * task.vocab.length + id;
      let p = pieces.get(key);
      if (p === undefined) {
        // decode([a, b]) = decode([a]) + separator + spelling of b, by the codec's definition.
        p = task.decode([previous, id]).slice(task.decode([previous]).length);
        pieces.set(key, p);
      }
      return p;
    },
  };
}

/** True when `e` is the codec's complaint about unspellable text. */
export function isEncodingError(e: unknown): e is AnytimeInputError {
  return e instanceof AnytimeInputError && e.argument === 'text';
}
