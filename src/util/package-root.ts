import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../core/errors.js';

/**
 * The repository root (where package.json names this package), found from the working directory:
 * where worker threads find their entry file (src/ compiles to CommonJS in notebooks, so no
 * `import.meta.url`).
 */
export function packageRoot(start = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'anytime') return dir;
    const up = dirname(dir);
    if (up === dir) fail('cwd', `no 'anytime' package.json above ${start}: run from inside the repository`);
    dir = up;
  }
}
