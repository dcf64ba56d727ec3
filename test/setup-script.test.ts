// scripts/setup.sh's own logic, without a fresh machine: the script runs from a copy in a temporary
// "repository" with every system command it calls stubbed (first and only on PATH, beside links to the
// few real tools it needs), so the test sees exactly what it would ask apt, sudo and npm to do — and
// what it says when they fail.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/setup.sh', import.meta.url));
const REAL_TOOLS = ['bash', 'dirname', 'grep', 'tee'];

/** What the stubbed machine has: Debian packages with versions, the Vulkan loader, the user. */
interface Machine {
  packages?: Record<string, string>;
  libvulkan?: boolean;
  uid?: number;
  /** Commands that do not exist at all. */
  missing?: readonly string[];
  /** `<command> <first argument>` pairs that fail, e.g. 'apt-get update'. */
  failing?: readonly string[];
  codename?: string;
  /** node_modules present and newer than package-lock.json. */
  npmDone?: boolean;
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-setup-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function which(tool: string): string {
  for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(join(d, tool))) return join(d, tool);
  throw new Error(`test needs ${tool}`);
}

/** A stub that logs its name and arguments, one call per line, then behaves as `body` says. */
function stub(bin: string, name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!${which('bash')}\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`);
  chmodSync(path, 0o755);
}

async function runSetup(machine: Machine) {
  const repo = join(dir, 'repo');
  const bin = join(dir, 'bin');
  const sources = join(dir, 'sources.list.d');
  for (const d of [join(repo, 'scripts'), bin, sources]) mkdirSync(d, { recursive: true });
  copyFileSync(script, join(repo, 'scripts/setup.sh'));
  writeFileSync(join(repo, 'package-lock.json'), '{}');
  if (machine.npmDone) {
    mkdirSync(join(repo, 'node_modules'));
    writeFileSync(join(repo, 'node_modules/.package-lock.json'), '{}');
  }
  writeFileSync(join(dir, 'os-release'), `ID=debian\nVERSION_CODENAME=${machine.codename ?? 'bookworm'}\n`);
  for (const tool of REAL_TOOLS) symlinkSync(which(tool), join(bin, tool));

  const packages = machine.packages ?? {};
  const fails = (cmd: string) => (machine.failing ?? []).filter((f) => f.startsWith(`${cmd} `)).map((f) => f.slice(cmd.length + 1));
  const stubs: Record<string, string> = {
    // dpkg-query -W -f=FORMAT PACKAGE: "installed VERSION" for an installed package, else dpkg's error.
    'dpkg-query': `case "\${@: -1}" in ${Object.entries(packages)
      .map(([p, v]) => `${p}) echo -n "installed ${v}";;`)
      .join(' ')}
      *) echo "dpkg-query: no packages found matching \${@: -1}" >&2; exit 1;; esac`,
    ldconfig: `echo "42 libs found in cache"; ${machine.libvulkan ? 'echo "	libvulkan.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libvulkan.so.1"' : ''}`,
    id: `echo ${machine.uid ?? 0}`,
    sudo: `case "$1" in -v) ${fails('sudo').includes('-v') ? 'exit 1' : 'exit 0'};; esac; exec "$@"`,
    'apt-get': `case "$1" in ${fails('apt-get')
      .map((a) => `${a}) echo "E: stubbed failure" >&2; exit 100;;`)
      .join(' ')} esac; exit 0`,
    npm: `echo "npm PUPPETEER_SKIP_DOWNLOAD=\${PUPPETEER_SKIP_DOWNLOAD:-}" >> "$STUB_LOG"; case "$1" in ${fails('npm')
      .map((a) => `${a}) exit 1;;`)
      .join(' ')} esac; exit 0`,
  };
  for (const [name, body] of Object.entries(stubs)) if (!machine.missing?.includes(name)) stub(bin, name, body);

  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      which('bash'),
      [join(repo, 'scripts/setup.sh')],
      {
        env: { PATH: bin, STUB_LOG: log, SETUP_OS_RELEASE: join(dir, 'os-release'), SETUP_APT_SOURCES_DIR: sources },
        timeout: 30_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const backports = join(sources, 'bookworm-backports.list');
  return { ...result, calls, backports: existsSync(backports) ? readFileSync(backports, 'utf8') : undefined };
}

const installCall = (calls: string[]) => calls.filter((c) => c.startsWith('apt-get install'));
/** The packages an `apt-get install` call asks for (its arguments after the options). */
const asked = (call: string) =>
  call
    .split(' ')
    .slice(2)
    .filter((a) => !a.startsWith('-') && a !== 'bookworm-backports');

/** A failure is one line on stderr, "setup: <what failed>; <what to do>", and a non-zero exit. */
function expectOneLineFailure(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('setup: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(lines[0]);
}

describe('scripts/setup.sh (system commands stubbed)', () => {
  it('on a machine with none of its packages, installs all three from bookworm-backports, then runs npm ci', async () => {
    const r = await runSetup({});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('apt-get'))).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends -t bookworm-backports chromium libvulkan1 mesa-vulkan-drivers',
    ]);
    expect(r.backports).toBe('deb http://deb.debian.org/debian bookworm-backports main\n');
    expect(r.calls.filter((c) => c.startsWith('npm'))).toEqual(['npm ci --no-audit --no-fund', 'npm PUPPETEER_SKIP_DOWNLOAD=1']);
    expect(r.calls.some((c) => c.startsWith('sudo'))).toBe(false); // root needs no sudo
  });

  it('asks apt for exactly the missing packages: an old Mesa is missing, Chromium and the loader are not', async () => {
    const r = await runSetup({ packages: { chromium: '156.0.8078.108-1~deb12u1', 'mesa-vulkan-drivers': '22.3.6-1+deb12u1' }, libvulkan: true, npmDone: true });
    expect(r.code).toBe(0);
    expect(installCall(r.calls).map(asked)).toEqual([['mesa-vulkan-drivers']]);
    expect(r.calls.some((c) => c.startsWith('npm'))).toBe(false);
  });

  it('installs only Chromium and the loader when Mesa 25 is there (with or without an epoch), and no backports', async () => {
    for (const mesa of ['25.0.7-2~bpo12+1', '1:25.2.1-1']) {
      const r = await runSetup({ packages: { 'mesa-vulkan-drivers': mesa }, npmDone: true });
      expect(r.code).toBe(0);
      expect(installCall(r.calls)).toEqual(['apt-get install -y -qq --no-install-recommends chromium libvulkan1']);
      expect(r.backports).toBeUndefined();
      rmSync(join(dir, 'repo'), { recursive: true });
      rmSync(join(dir, 'bin'), { recursive: true });
      rmSync(join(dir, 'sources.list.d'), { recursive: true });
    }
  });

  it('does nothing, silently, when everything is there', async () => {
    const r = await runSetup({ packages: { chromium: '156', 'mesa-vulkan-drivers': '25.0.7' }, libvulkan: true, npmDone: true });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(r.calls.filter((c) => !c.startsWith('dpkg-query') && !c.startsWith('ldconfig'))).toEqual([]);
  });

  it('off Debian 12 takes Mesa from the release itself (no backports)', async () => {
    const r = await runSetup({ codename: 'trixie', npmDone: true });
    expect(r.code).toBe(0);
    expect(installCall(r.calls)).toEqual(['apt-get install -y -qq --no-install-recommends chromium libvulkan1 mesa-vulkan-drivers']);
    expect(r.backports).toBeUndefined();
  });

  it('as a user with sudo, runs apt through sudo (asking for the password first)', async () => {
    const r = await runSetup({ uid: 1000, npmDone: true });
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('sudo'))).toEqual([
      'sudo -v',
      `sudo tee ${join(dir, 'sources.list.d/bookworm-backports.list')}`,
      'sudo apt-get update -qq',
      'sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports chromium libvulkan1 mesa-vulkan-drivers',
    ]);
  });

  it.each([
    [
      'no sudo',
      { uid: 1000, missing: ['sudo'] },
      /^setup: installing chromium libvulkan1 mesa-vulkan-drivers needs root and sudo is not installed; run as root: apt-get install chromium libvulkan1 mesa-vulkan-drivers$/,
    ],
    ['sudo refused', { uid: 1000, failing: ['sudo -v'] }, /^setup: sudo was refused; run as root: apt-get install /],
    ['no apt-get', { missing: ['apt-get'] }, /^setup: apt-get not found \(not Debian\?\); install chromium libvulkan1 mesa-vulkan-drivers/],
    [
      'apt-get update fails (no network)',
      { failing: ['apt-get update'] },
      /^setup: apt-get update failed \(no network, or a broken apt source\?\); fix it, then run: apt-get update && apt-get install chromium libvulkan1 mesa-vulkan-drivers -t bookworm-backports$/,
    ],
    [
      'apt-get install fails',
      { failing: ['apt-get install'] },
      /^setup: apt-get install chromium libvulkan1 mesa-vulkan-drivers failed .*; run by hand: apt-get install /,
    ],
    [
      'npm ci fails',
      { packages: { chromium: '1', 'mesa-vulkan-drivers': '25.0' }, libvulkan: true, failing: ['npm ci'] },
      /^setup: npm ci failed .*; run by hand: PUPPETEER_SKIP_DOWNLOAD=1 npm ci$/,
    ],
    [
      'no npm',
      { packages: { chromium: '1', 'mesa-vulkan-drivers': '25.0' }, libvulkan: true, missing: ['npm'] },
      /^setup: npm not found; install Node\.js 20 or later/,
    ],
  ] as const)('%s: one line saying what failed and what to run by hand', async (_, machine, pattern) => {
    const r = await runSetup(machine as Machine);
    expectOneLineFailure(r, pattern);
  });

  it('stops at the first failure: nothing is installed after a failed apt-get update', async () => {
    const r = await runSetup({ failing: ['apt-get update'] });
    expect(installCall(r.calls)).toEqual([]);
    expect(r.calls.some((c) => c.startsWith('npm'))).toBe(false);
  });
});
