/**
 * The batching queue: requests that arrive close together are decoded in one batch.
 *
 * Rule: while no batch is decoding, a batch starts as soon as the waiting requests hold
 * `maxBatch` rows (choices), or the oldest waiting request has waited `waitMs`. It takes
 * whole requests in arrival order up to `maxBatch` rows (always at least one request, so a
 * request with n > maxBatch is decoded alone). One batch decodes at a time — the model runs
 * on one device — and requests arriving meanwhile wait for the next. A request is answered as
 * soon as its own rows finish, before the rest of its batch.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import type { DecodeOptions, RowOutput, RowSpec } from './generate.js';
import { ServeError } from './request.js';

export type BatchDecoder = (rows: RowSpec[], options: DecodeOptions) => Promise<RowOutput[]>;

export interface QueueOptions {
  /** Most rows per batch. */
  maxBatch: number;
  /** Longest wait for companions, in milliseconds (0: start at once). */
  waitMs: number;
  /** Called when a batch starts, with its request and row counts. */
  onBatch?: (info: { requests: number; rows: number }) => void;
}

/** Counters since the queue was made. */
export interface QueueStats {
  /** Batches decoded (started). */
  batches: number;
  requests: number;
  rows: number;
  /** Most requests in one batch. */
  maxRequestsPerBatch: number;
  /** Most rows in one batch. */
  maxRowsPerBatch: number;
  /** Requests waiting and rows decoding right now. */
  waiting: number;
  decoding: number;
}

interface Pending {
  rows: RowSpec[];
  arrived: number;
  resolve: (out: RowOutput[]) => void;
  reject: (e: unknown) => void;
}

export class BatchQueue {
  private readonly pending: Pending[] = [];
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly counters = { batches: 0, requests: 0, rows: 0, maxRequestsPerBatch: 0, maxRowsPerBatch: 0, decoding: 0 };

  constructor(
    private readonly decode: BatchDecoder,
    private readonly options: QueueOptions,
  ) {
    checkPositiveInt('maxBatch', options.maxBatch);
    if (!(Number.isFinite(options.waitMs) && options.waitMs >= 0)) fail('waitMs', `must be a finite number ≥ 0, got ${options.waitMs}`);
  }

  get stats(): QueueStats {
    return { ...this.counters, waiting: this.pending.length };
  }

  /** Queues the rows of one request; resolves with their outputs, in order. */
  submit(rows: RowSpec[]): Promise<RowOutput[]> {
    if (this.closed) return Promise.reject(new ServeError(503, 'the server is shutting down'));
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ rows, arrived: Date.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new requests; resolves once every queued and decoding request is answered. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.pending.length > 0) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private pendingRows(): number {
    return this.pending.reduce((a, p) => a + p.rows.length, 0);
  }

  private schedule(): void {
    if (this.running || this.pending.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const wait = this.pending[0].arrived + this.options.waitMs - Date.now();
    if (this.closed || wait <= 0 || this.pendingRows() >= this.options.maxBatch) this.start();
    else this.timer = setTimeout(() => this.start(), wait);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.pending.length === 0) return;
    const batch: Pending[] = [this.pending.shift()!];
    let rows = batch[0].rows.length;
    while (this.pending.length > 0 && rows + this.pending[0].rows.length <= this.options.maxBatch) {
      rows += this.pending[0].rows.length;
      batch.push(this.pending.shift()!);
    }
    const c = this.counters;
    c.batches++;
    c.requests += batch.length;
    c.rows += rows;
    c.maxRequestsPerBatch = Math.max(c.maxRequestsPerBatch, batch.length);
    c.maxRowsPerBatch = Math.max(c.maxRowsPerBatch, rows);
    c.decoding = rows;
    this.options.onBatch?.({ requests: batch.length, rows });
    this.running = this.run(batch).finally(() => {
      c.decoding = 0;
      this.running = null;
      this.schedule();
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    const rows = batch.flatMap((p) => p.rows);
    // Row r belongs to request owner[r]; a request is answered when its last row is done.
    const owner: number[] = batch.flatMap((p, i) => p.rows.map(() => i));
    const left = batch.map((p) => p.rows.length);
    const firstRow = batch.map((_, i) => owner.indexOf(i));
    const results: (RowOutput | undefined)[] = new Array(rows.length);
    try {
      await this.decode(rows, {
        onRowDone: (r, out) => {
          results[r] = out;
          const i = owner[r];
          if (--left[i] === 0) batch[i].resolve(results.slice(firstRow[i], firstRow[i] + batch[i].rows.length) as RowOutput[]);
        },
      });
      batch.forEach((p, i) => {
        if (left[i] > 0) p.reject(new ServeError(500, 'internal: the decoder finished without answering every row'));
      });
    } catch (e) {
      batch.forEach((p, i) => {
        if (left[i] > 0) p.reject(e);
      });
    }
  }
}
