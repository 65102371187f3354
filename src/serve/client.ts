/**
 * An eval client that calls the completion engine directly, without HTTP: the same requests
 * `anytime eval` sends, answered by `CompletionEngine.complete` (each request decoded alone).
 * Running the eval pipeline with it and with a `CompletionsClient` pointed at `anytime serve`
 * must give the same results; that is how the server is tested.
 */
import { CompletionsClient, EvalServerError, type CompletionRequest, type CompletionResponse } from '../eval/client.js';
import type { CompletionEngine } from './engine.js';
import { ServeError } from './request.js';

export class InProcessClient extends CompletionsClient {
  constructor(private readonly engine: CompletionEngine) {
    super({ baseUrl: 'http://in-process', timeoutMs: 1, retries: 0, backoffMs: 0, concurrency: 1 });
  }

  override async listModels(): Promise<string[]> {
    return this.engine.models().data.map((m) => String(m.id));
  }

  override async complete(req: CompletionRequest): Promise<CompletionResponse> {
    this.stats.attempts++;
    try {
      return await this.engine.complete(req);
    } catch (e) {
      if (e instanceof ServeError) throw new EvalServerError('http', `in-process ${e.status}: ${e.message}`, e.status);
      throw e;
    }
  }
}
