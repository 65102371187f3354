/** `anytime serve`: the tiny policy behind an OpenAI-compatible completions server. */
export { TEXT_MAPS, TEXT_MAP_NAMES, applyTextMap, makeProtocol, type TextMap, type TextProtocol } from './protocol.js';
export { parseCompletionRequest, ServeError, MAX_N, MAX_LOGPROBS, DEFAULT_MAX_TOKENS, type CompletionParams, type StopSequence, type RequestContext } from './request.js';
export { generate, decodeRows, choiceRows, choiceSeed, type RowSpec, type RowOutput, type GenerateOptions, type DecodeOptions, type TokenLogprob } from './generate.js';
export { formatChoice, type Choice, type ChoiceLogprobs } from './response.js';
export { CompletionEngine, type EngineOptions, type CompletionBody, type RowDecoder } from './engine.js';
export { BatchQueue, type QueueOptions, type QueueStats, type BatchDecoder } from './queue.js';
export { startServer, MAX_BODY_BYTES, type ServerOptions, type RunningServer } from './http.js';
export { InProcessClient } from './client.js';
export { loadServedModel, type ServedModel } from './load.js';
