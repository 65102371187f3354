/** The tiny transformer policy: model, KV-cache rollouts, tree-packed training forward, warm start. */
export { linear, linearBias, linearTransposed, embedRows, embedTokens, layerNorm, quickGelu, attention, tokenLogProbs, MASKED } from './ops.js';
export { TransformerPolicy, makeConfig, DEFAULT_CONFIG, parameterShapes, initialWeights, causalMask, disposeCache } from './transformer.js';
export type { TransformerConfig, KVCache, RunInput } from './transformer.js';
export { encodeCheckpoint, decodeCheckpoint, saveCheckpoint, readCheckpoint, loadCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckpointTensor } from './checkpoint.js';
export { sampleRollouts, sampleFromLogits, requiredSeqLen, generate, decodeBatch } from './sampler.js';
export type { Rollout, Summary, SummaryGroup, SampleOptions, Continuation, GenerateOptions, DecodeRow, DecodeHooks, DecodedBatch } from './sampler.js';
export { packTraces, packedLogProbs, TokenKind } from './forward.js';
export type { TraceTree, PackedBatch, PackedLayout } from './forward.js';
export { warmStart, basePolicy, warmStartHash, teacherTree, modelConfigFor, meanTail, WARM_START_DEFAULTS } from './warmstart.js';
export type { WarmStartOptions } from './warmstart.js';
