/**
 * `npx anytime <command>`: each command lives in its own module under src/cli/ and exports
 * `run(argv: string[]): Promise<number>` (the exit code) and a one-line `summary`.
 */
const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number>; summary: string }>> = {
  demo: () => import('./demo.js'),
  eval: () => import('./eval.js'),
  reproduce: () => import('./reproduce.js'),
  serve: () => import('./serve.js'),
};

export function registerCommand(name: string, load: (typeof COMMANDS)[string]): void {
  COMMANDS[name] = load;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const lines = ['usage: anytime <command> [options]', '', 'commands:'];
    for (const [name, load] of Object.entries(COMMANDS)) {
      const mod = await load();
      lines.push(`  ${name.padEnd(10)} ${mod.summary}`);
    }
    console.log(lines.join('\n'));
    return cmd ? 0 : 1;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    console.error(`anytime: unknown command '${cmd}'; allowed: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}
