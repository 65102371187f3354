// Worker threads do not inherit the parent's TypeScript loader: register tsx, then load the worker.
// Deno runs TypeScript itself (and has no tsx loader hooks), so there the worker loads directly.
if (!globalThis.Deno) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import('./worker.ts');
