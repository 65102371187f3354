/**
 * The HTTP server of `anytime serve` (node:http, no framework):
 *
 *   GET  /v1/models       the served model
 *   POST /v1/completions  OpenAI-compatible completions (see request.ts and response.ts)
 *   GET  /stats           batching counters (not part of the OpenAI API)
 *   GET  /health          200 while serving, 503 while shutting down
 *
 * Errors are JSON `{ error: { message, type, param, code } }`: 400 for a malformed request
 * (naming the field), 404 for an unknown route or model, 405 for a wrong method, 413 for a
 * body over 1 MiB, 503 while shutting down, 500 for a failure inside the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeRows } from './generate.js';
import type { CompletionEngine } from './engine.js';
import { BatchQueue, type QueueStats } from './queue.js';
import { ServeError } from './request.js';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1 << 20;

export interface ServerOptions {
  engine: CompletionEngine;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 8000. */
  port?: number;
  /** Most rows (choices) decoded in one batch. Default 64. */
  maxBatch?: number;
  /** How long the first request of a batch waits for companions, ms. Default 5. */
  batchWaitMs?: number;
  /** Called when a batch starts. */
  onBatch?: (info: { requests: number; rows: number }) => void;
  /** Log lines (errors inside the server). Default: console.error. */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  readonly stats: QueueStats;
  /** Stops accepting requests, answers those queued or decoding, then closes every connection. */
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ServeError(413, `the request body is over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts serving `engine`; resolves once the server listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { engine, host = '127.0.0.1', port = 8000, maxBatch = 64, batchWaitMs = 5 } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const queue = new BatchQueue((rows, decodeOptions) => decodeRows(engine.policy, rows, decodeOptions), { maxBatch, waitMs: batchWaitMs, onBatch: options.onBatch });
  let closing = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    const route = (method: string): void => {
      if (req.method !== method) throw new ServeError(405, `${path} accepts ${method}, got ${req.method}`);
    };
    if (path === '/health') {
      sendJson(res, closing ? 503 : 200, { status: closing ? 'shutting down' : 'ok' });
    } else if (path === '/stats') {
      route('GET');
      sendJson(res, 200, queue.stats);
    } else if (path === '/v1/models') {
      route('GET');
      sendJson(res, 200, engine.models());
    } else if (path === '/v1/completions') {
      route('POST');
      if (closing) throw new ServeError(503, 'the server is shutting down');
      const text = await readBody(req);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new ServeError(400, `the request body is not valid JSON (${(e as Error).message})`);
      }
      sendJson(res, 200, await engine.complete(body, (rows) => queue.submit(rows)));
    } else {
      throw new ServeError(404, `no route ${req.method} ${path}; this server has GET /v1/models, POST /v1/completions, GET /stats, GET /health`);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof ServeError ? e : new ServeError(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
      if (err.status >= 500 && !(e instanceof ServeError)) log(`anytime serve: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) sendJson(res, err.status, err.body());
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    get stats() {
      return queue.stats;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await queue.close();
        server.closeIdleConnections();
        // Connections still open now are mid-response; give them a moment, then cut them.
        const timer = setTimeout(() => server.closeAllConnections(), 2000);
        await stopped;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}
