/**
 * Helpers for the tests that use the repository the way a user does (test/clone*.test.ts,
 * test/package.test.ts): the README's two commands, and a child environment free of what
 * `npm test` sets for this package.
 */

/** The first fenced code block of the README: its first line is the main job, its second the test command. */
export function readmeCommands(readme: string): { main: string; test: string } {
  const lines = readme.split('\n');
  const open = lines.findIndex((l) => l.startsWith('```'));
  const close = lines.findIndex((l, i) => i > open && l.startsWith('```'));
  const block = open >= 0 && close > open ? lines.slice(open + 1, close).filter((l) => l.trim() !== '') : [];
  if (block.length < 2) throw new Error('README.md: its first code block must hold the main command and the test command');
  return { main: block[0], test: block[1] };
}

/** A command line without its trailing `# comment`. */
export const withoutComment = (line: string): string => line.replace(/\s+#.*$/, '').trim();

/**
 * The environment without npm's per-run variables (npm_config_*, npm_package_*, npm_lifecycle_*,
 * INIT_CWD), so that an npm started from a test behaves as one started by a user.
 */
export function cleanNpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  return { ...env, ...extra };
}
