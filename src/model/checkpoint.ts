/**
 * Checkpoints: one binary file holding the model config, the weights and any extra named
 * tensors (e.g. optimiser moments for resuming), written atomically.
 *
 * Layout (little-endian):
 *
 *   "ANYTCKPT"  8 bytes magic
 *   uint32      byte length H of the JSON header
 *   H bytes     UTF-8 JSON { format: 1, config, tensors: [{ name, shape, offset }], meta }
 *   padding     to a multiple of 4 bytes
 *   float32[]   all tensors back to back; `offset` counts floats from the start of this block
 *
 * Extra tensors are stored under names starting with `extra/`.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../core/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { makeConfig, parameterShapes, TransformerPolicy, type TransformerConfig } from './transformer.js';

const MAGIC = 'ANYTCKPT';
const EXTRA = 'extra/';

export interface CheckpointTensor {
  shape: number[];
  values: Float32Array;
}

export interface Checkpoint {
  config: TransformerConfig;
  weights: Map<string, Float32Array>;
  /** Free-form JSON the writer attached (step, seed, task, metrics, …). */
  meta: Record<string, unknown>;
  /** Extra named tensors (optimiser state, …). */
  extra: Map<string, CheckpointTensor>;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
}

/** Encodes a checkpoint to bytes. */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const entries: HeaderEntry[] = [];
  const blocks: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], values: Float32Array): void => {
    entries.push({ name, shape, offset });
    blocks.push(values);
    offset += values.length;
  };
  for (const [name, shape] of parameterShapes(ckpt.config)) {
    const v = ckpt.weights.get(name);
    if (!v) fail('weights', `missing parameter '${name}'`);
    add(name, shape, v);
  }
  for (const [name, t] of ckpt.extra) add(EXTRA + name, t.shape, t.values);
  const header = new TextEncoder().encode(JSON.stringify({ format: 1, config: ckpt.config, tensors: entries, meta: ckpt.meta }));
  const dataStart = Math.ceil((12 + header.length) / 4) * 4;
  const bytes = new Uint8Array(dataStart + offset * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  const data = new Float32Array(bytes.buffer, dataStart, offset);
  let at = 0;
  for (const block of blocks) {
    data.set(block, at);
    at += block.length;
  }
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('checkpoints assume a little-endian machine');
  return bytes;
}

/** Decodes bytes written by `encodeCheckpoint`; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail(source, `is not an anytime checkpoint (missing '${MAGIC}' magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail(source, `is truncated: its header needs ${12 + headerLength} bytes, the file has ${bytes.length}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
    format: number;
    config: TransformerConfig;
    tensors: HeaderEntry[];
    meta: Record<string, unknown>;
  };
  if (header.format !== 1) fail(source, `has format ${header.format}; this version reads format 1`);
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  // Copy into an aligned buffer: the file's bytes may not start on a 4-byte boundary.
  const body = bytes.slice(dataStart);
  const floats = new Float32Array(body.buffer, 0, Math.floor(body.length / 4));
  const weights = new Map<string, Float32Array>();
  const extra = new Map<string, CheckpointTensor>();
  for (const e of header.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + size > floats.length) fail(source, `is truncated: tensor '${e.name}' runs past the end`);
    const values = floats.slice(e.offset, e.offset + size);
    if (e.name.startsWith(EXTRA)) extra.set(e.name.slice(EXTRA.length), { shape: e.shape, values });
    else weights.set(e.name, values);
  }
  return { config: makeConfig(header.config), weights, meta: header.meta ?? {}, extra };
}

/** Writes the policy (and optional meta/extra tensors) to `path` atomically. */
export async function saveCheckpoint(
  path: string,
  policy: TransformerPolicy,
  options: { meta?: Record<string, unknown>; extra?: Map<string, CheckpointTensor> } = {},
): Promise<void> {
  const bytes = encodeCheckpoint({
    config: policy.config,
    weights: await policy.weights(),
    meta: options.meta ?? {},
    extra: options.extra ?? new Map(),
  });
  writeFileAtomic(path, bytes);
}

/** Reads a checkpoint file (config, weights, meta, extra tensors) without building a model. */
export function readCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(new Uint8Array(readFileSync(path)), path);
}

/** Loads a checkpoint file into a new policy. */
export function loadCheckpoint(path: string): { policy: TransformerPolicy; checkpoint: Checkpoint } {
  const checkpoint = readCheckpoint(path);
  return { policy: new TransformerPolicy(checkpoint.config, checkpoint.weights), checkpoint };
}
