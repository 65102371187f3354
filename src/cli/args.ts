/**
 * A small `--name value` / `--name=value` / `--flag` parser that rejects unknown options by name,
 * so a typo never silently falls back to a default.
 */
import { fail } from '../core/errors.js';

export interface OptionSpec {
  /** 'string', 'number', 'int' or 'boolean' (a flag). */
  type: 'string' | 'number' | 'int' | 'boolean';
  help: string;
}

export function parseArgs<T extends Record<string, OptionSpec>>(
  argv: string[],
  spec: T,
): { values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['type'] extends 'string' ? string : number }; help: boolean } {
  const values: Record<string, unknown> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) fail('arguments', `unexpected '${arg}'; options start with --`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const opt = spec[name];
    if (!opt) fail(`--${name}`, `unknown option; allowed: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    if (opt.type === 'boolean') {
      values[name] = eq === -1 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined) fail(`--${name}`, `needs a value (${opt.help})`);
    if (opt.type === 'string') values[name] = raw;
    else {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (opt.type === 'int' && !Number.isInteger(n))) {
        fail(`--${name}`, `must be ${opt.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      }
      values[name] = n;
    }
  }
  return { values: values as never, help };
}

export function usage(command: string, summary: string, spec: Record<string, OptionSpec>): string {
  const lines = [`usage: anytime ${command} [options]`, '', summary, '', 'options:'];
  for (const [name, o] of Object.entries(spec)) lines.push(`  --${name}${o.type === 'boolean' ? '' : ` <${o.type}>`}`.padEnd(28) + o.help);
  return lines.join('\n');
}
