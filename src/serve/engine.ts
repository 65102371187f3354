/**
 * The completion engine: a loaded policy, its task's text protocol and the server options,
 * turning request bodies into response bodies. The HTTP server hands decoding to the batching
 * queue; `complete` decodes at once (one request per batch), which is what in-process callers
 * and tests compare the server against.
 */
import { randomUUID } from 'node:crypto';
import { deriveSeed, seededRng, type Rng } from '../core/rng.js';
import type { TransformerPolicy } from '../model/transformer.js';
import type { Task } from '../tasks/types.js';
import { choiceRows, decodeRows, type RowOutput, type RowSpec } from './generate.js';
import { makeProtocol, type TextMap, type TextProtocol } from './protocol.js';
import { parseCompletionRequest, type CompletionParams, type RequestContext } from './request.js';
import { formatChoice, type Choice } from './response.js';

export interface EngineOptions {
  /** Model id reported by /v1/models and required in requests that name a model. */
  modelId: string;
  /** Text replacements applied to prompts and stop strings before encoding. */
  textMap: TextMap;
  /** Wrap summary texts as `\boxed{…}` (see response.ts). */
  boxAnswers: boolean;
  /** Seed of the stream that seeds requests sent without a `seed`. */
  seed: number;
  /** Extra fields for the /v1/models entry (checkpoint meta, task). */
  info?: Record<string, unknown>;
}

/** `POST /v1/completions` response body. */
export interface CompletionBody {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Choice[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Decodes a set of rows (directly, or through the batching queue). */
export type RowDecoder = (rows: RowSpec[]) => Promise<RowOutput[]>;

export class CompletionEngine {
  readonly protocol: TextProtocol;
  readonly context: RequestContext;
  private readonly seeds: Rng;

  constructor(
    readonly policy: TransformerPolicy,
    readonly task: Task,
    readonly options: EngineOptions,
  ) {
    this.protocol = makeProtocol(task, options.textMap);
    this.context = { modelId: options.modelId, vocabSize: policy.config.vocabSize, maxSeqLen: policy.config.maxSeqLen, protocol: this.protocol };
    this.seeds = seededRng(deriveSeed(options.seed, 'unseeded-requests'));
  }

  /** The /v1/models body. */
  models(): { object: 'list'; data: Record<string, unknown>[] } {
    return {
      object: 'list',
      data: [{ id: this.options.modelId, object: 'model', created: 0, owned_by: 'anytime', max_model_len: this.policy.config.maxSeqLen, task: this.task.name, ...this.options.info }],
    };
  }

  /** Checks a request body (throws ServeError naming the bad field). */
  parse(body: unknown): CompletionParams {
    return parseCompletionRequest(body, this.context);
  }

  /** The rows of a checked request; a request without a seed gets one from the server's stream. */
  rows(params: CompletionParams): RowSpec[] {
    const seed = params.seed ?? Math.floor(this.seeds() * 2 ** 32);
    return choiceRows(params.promptIds, {
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      seed,
      n: params.n,
      stops: params.stops,
      topLogprobs: params.logprobs,
    });
  }

  /** The response body for decoded rows. */
  respond(params: CompletionParams, outputs: RowOutput[]): CompletionBody {
    const choices = outputs.map((o, i) =>
      formatChoice(i, params.promptIds, o, { protocol: this.protocol, logprobs: params.logprobs !== null, boxAnswers: this.options.boxAnswers }),
    );
    const completion = outputs.reduce((a, o) => a + o.tokens.length, 0);
    return {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: this.options.modelId,
      choices,
      usage: { prompt_tokens: params.promptIds.length, completion_tokens: completion, total_tokens: params.promptIds.length + completion },
    };
  }

  /** Serves one request body with the given decoder (default: decode it alone, at once). */
  async complete(body: unknown, decode: RowDecoder = (rows) => decodeRows(this.policy, rows)): Promise<CompletionBody> {
    const params = this.parse(body);
    return this.respond(params, await decode(this.rows(params)));
  }
}
