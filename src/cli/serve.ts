/**
 * `npx anytime serve --checkpoint PATH`: serves a tiny-policy checkpoint over HTTP with the
 * OpenAI-compatible `/v1/completions` and `/v1/models`, so `anytime eval` (or any OpenAI client)
 * can evaluate it. SIGTERM / SIGINT stop it gracefully (requests in progress are answered).
 */
import { existsSync } from 'node:fs';
import { AnytimeInputError, checkOneOf } from '../core/errors.js';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../backend.js';
import { CompletionEngine } from '../serve/engine.js';
import { startServer } from '../serve/http.js';
import { loadServedModel } from '../serve/load.js';
import { TEXT_MAPS, TEXT_MAP_NAMES } from '../serve/protocol.js';
import { TASK_NAMES } from '../tasks/index.js';
import { parseArgs, usage } from './args.js';

export const summary = 'serve a tiny-policy checkpoint over an OpenAI-compatible HTTP API (/v1/completions)';

const SPEC = {
  checkpoint: { type: 'string', help: 'checkpoint file to serve (required)' },
  task: { type: 'string', help: `task whose vocabulary reads prompts: ${TASK_NAMES.join(', ')} (default: the checkpoint's meta.task)` },
  host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
  port: { type: 'int', help: 'port (default 8000; 0 picks a free one)' },
  'max-batch': { type: 'int', help: 'most sequences decoded together in one batch (default 64)' },
  'batch-wait-ms': { type: 'number', help: 'how long a request waits for others to batch with (default 5)' },
  'model-name': { type: 'string', help: 'model id in /v1/models and requests (default: checkpoint file name without .ckpt)' },
  'text-map': { type: 'string', help: `prompt text replacements before encoding: ${TEXT_MAP_NAMES.join(', ')} (default paper: the eval's default strings map onto <bos>, </think>, <answer>)` },
  'box-answers': { type: 'boolean', help: 'return summaries (completions of a prompt ending in <answer>) as \\boxed{...} so the eval can grade them' },
  seed: { type: 'int', help: 'seed of the stream that seeds requests sent without "seed" (default 0)' },
  backend: { type: 'string', help: `tfjs backend: ${BACKEND_CHOICES.join(', ')} (default auto, or $ANYTIME_BACKEND)` },
} as const;

const DETAILS = `
Text protocol: prompts are encoded with the task's vocabulary ('<bos>', '<eos>', '</think>',
'<answer>', '...', digits, + - * = ; , : ?; whitespace is skipped) after the text map; BOS is
prepended when missing. With the default 'paper' map, anytime eval's default prompt template
and forcing strings work unchanged:

  anytime serve --checkpoint data/base/arithmetic-XXXX.ckpt --box-answers --port 8000
  anytime eval --base-url http://127.0.0.1:8000 --model arithmetic-XXXX --data probs.jsonl \\
    --out runs/eval --max-budget 96 --budgets 24,48,72,96 --summary-tokens 3

(--summary-tokens must fit the policy's context: prompt + thinking + forcing + summary.)
Requests: prompt, max_tokens, temperature, n, stop, logprobs, seed, model; unsupported sampling
fields (top_p ≠ 1, stream, echo, …) are rejected with 400, other unknown fields ignored.`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    const parsed = parseArgs(argv, SPEC);
    if (parsed.help) {
      console.log(usage('serve', summary, SPEC) + '\n' + DETAILS);
      return 0;
    }
    values = parsed.values;
    if (!values.checkpoint) throw new AnytimeInputError('--checkpoint', 'is required; see anytime serve --help');
    if (!existsSync(values.checkpoint)) throw new AnytimeInputError('--checkpoint', `cannot read '${values.checkpoint}': no such file`);
    if (values.task !== undefined) checkOneOf('--task', values.task, TASK_NAMES);
    checkOneOf('--text-map', values['text-map'] ?? 'paper', TEXT_MAP_NAMES);
    if (values.backend !== undefined) checkOneOf('--backend', values.backend as BackendChoice, BACKEND_CHOICES);
  } catch (e) {
    if (e instanceof AnytimeInputError) {
      console.error(`anytime serve: ${e.message}`);
      return 2;
    }
    throw e;
  }

  const backend = await initBackend({ prefer: values.backend as BackendChoice | undefined });
  let model;
  try {
    model = loadServedModel(values.checkpoint, { task: values.task, modelId: values['model-name'] });
  } catch (e) {
    if (e instanceof AnytimeInputError) {
      console.error(`anytime serve: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  const engine = new CompletionEngine(model.policy, model.task, {
    modelId: model.modelId,
    textMap: TEXT_MAPS[(values['text-map'] ?? 'paper') as keyof typeof TEXT_MAPS],
    boxAnswers: values['box-answers'] === true,
    seed: values.seed ?? 0,
    info: model.info,
  });
  let server;
  try {
    server = await startServer({
      engine,
      host: values.host ?? '127.0.0.1',
      port: values.port ?? 8000,
      maxBatch: values['max-batch'] ?? 64,
      batchWaitMs: values['batch-wait-ms'] ?? 5,
    });
  } catch (e) {
    model.policy.dispose();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      console.error(`anytime serve: cannot listen on ${values.host ?? '127.0.0.1'}:${values.port ?? 8000} (${code}); choose another --port or --host`);
      return 2;
    }
    throw e;
  }
  // Handlers go in before the address is printed: a client may signal as soon as it reads it.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  console.log(
    `anytime serve: model '${model.modelId}' (task ${model.task.name}, ${model.policy.parameterCount()} parameters, backend ${backend.name}) ` +
      `listening on ${server.url}/v1`,
  );

  const signal = await stopSignal;
  console.log(`anytime serve: ${signal}: finishing requests in progress, then stopping (send it again to stop at once)`);
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  await server.close();
  model.policy.dispose();
  const s = server.stats;
  console.log(`anytime serve: stopped after ${s.requests} requests in ${s.batches} batches`);
  process.removeListener('SIGTERM', force);
  process.removeListener('SIGINT', force);
  return 0;
}
