/**
 * `npm run setup` (scripts/setup.sh) where it must not install anything: not root, not Debian,
 * bad arguments, and a machine that already has everything. dpkg-query, id and apt-get are
 * replaced by stand-ins on PATH, so that a machine with the packages can play one without them;
 * the apt-get stand-in records any call (there must be none).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'anytime-setup-'));
const bin = join(dir, 'bin');
const aptCalled = join(dir, 'apt-get-called');
const fedora = join(dir, 'os-release');

function shim(name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

mkdirSync(bin);
shim('dpkg-query', 'exit 1'); // nothing is installed
shim('id', '[ "$1" = "-u" ] && echo 1000 || /usr/bin/id "$@"'); // not root
shim('apt-get', `touch ${aptCalled}; exit 0`);
writeFileSync(fedora, 'ID=fedora\nVERSION_CODENAME=""\nPRETTY_NAME="Fedora Linux 41"\n');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile('bash', ['scripts/setup.sh', ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env } }, (error, stdout, stderr) =>
      resolveRun({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const noTrace = (text: string) => expect(text).not.toMatch(/\n\s+at |Traceback|line \d+:/);

describe('npm run setup', () => {
  it('not root, packages missing: names every package and how to install them, exits 1, installs nothing', async () => {
    const r = await setup([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'missing Debian packages: libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libegl-dev libgl1-mesa-dri chromium jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core git',
    );
    expect(r.stderr).toContain('sudo npm run setup');
    expect(existsSync(aptCalled)).toBe(false);
    noTrace(r.stderr);
  });

  it('not root, one part asked for: only its packages', async () => {
    const r = await setup(['notebooks']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing Debian packages: jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core\n');
    expect(existsSync(aptCalled)).toBe(false);
  });

  it('not Debian and something missing: lists what to install, exits 1', async () => {
    const r = await setup(['browser', 'notebooks'], { ANYTIME_OS_RELEASE: fedora, ANYTIME_CHROMIUM: '/nonexistent/chromium', ANYTIME_JUPYTER_PYTHON: '/nonexistent/python3' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('this machine is Fedora Linux 41, not Debian');
    expect(r.stderr).toContain('browser:   chromium');
    expect(r.stderr).toContain('notebooks: jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core');
    expect(r.stderr).not.toContain('webgpu:');
    expect(existsSync(aptCalled)).toBe(false);
    noTrace(r.stderr);
  });

  it('rejects an unknown part, naming the allowed ones', async () => {
    const r = await setup(['gpu']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("setup: unknown part 'gpu' (allowed: webgpu, browser, notebooks, tools)");
  });

  it('with everything present (this machine, after setup): checks, installs nothing, exits 0', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((ok) =>
      execFile('bash', ['scripts/setup.sh', 'browser', 'notebooks'], (error, stdout, stderr) => ok({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/all packages present \(browser notebooks\)/);
    expect(r.stdout).toMatch(/setup: browser: Chromium \d+/);
    expect(r.stdout).toMatch(/setup: notebooks: nbconvert \d/);
  });
});
