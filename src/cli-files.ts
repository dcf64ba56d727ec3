/**
 * The command line's files, the one way: reading an input (a missing file, a directory, no permission
 * are RnnError 'FILE' naming the option and path), JSON and safetensors inputs (their content's errors
 * name the option and path too), and checking and writing outputs (atomically: writeOutput).
 */
import { randomBytes } from 'node:crypto';
import { access, constants, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RnnError, type RnnErrorCode } from './errors.js';
import { type SafetensorsFile, readSafetensors } from './safetensors.js';

/** What went wrong with a file, in words, from Node's error code. */
function fileProblem(e: NodeJS.ErrnoException, expected: string): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return `is a directory, expected ${expected}`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a folder on its path is a file';
    default:
      return `cannot be read (${e.code ?? e.message})`;
  }
}

/** Reads the file given to `option`; a file that cannot be read is RnnError 'FILE' naming option and path. */
export async function readInputFile(option: string, path: string, expected: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e)) throw e;
    throw new RnnError('FILE', `${option} ${path}: ${fileProblem(e as NodeJS.ErrnoException, expected)}`, { cause: e });
  }
}

/**
 * Checks, before any work, that `--out` can be written: its folder exists, is a folder and is
 * writable, and the path itself is not a directory.
 */
export async function checkOutput(path: string, option = '--out'): Promise<void> {
  const folder = dirname(path);
  const fail = (problem: string, cause?: unknown): never => {
    throw new RnnError('FILE', `${option} ${path}: ${problem}`, { cause });
  };
  const folderStat = await stat(folder).catch((e: NodeJS.ErrnoException) =>
    fail(
      e.code === 'ENOENT'
        ? `folder ${folder} does not exist`
        : e.code === 'ENOTDIR'
          ? `a folder on its path is a file`
          : `folder ${folder} cannot be used (${e.code})`,
      e,
    ),
  );
  if (!folderStat.isDirectory()) fail(`${folder} is not a folder`);
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) fail('is a directory, expected a file to write');
  await access(folder, constants.W_OK).catch((e: NodeJS.ErrnoException) => fail(`folder ${folder} is not writable (${e.code})`, e));
}

/** Reads a JSON file; invalid JSON is RnnError `code` naming the option and path. */
export async function readJson(option: string, path: string, code: RnnErrorCode): Promise<unknown> {
  const text = (await readInputFile(option, path, 'a JSON file')).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RnnError(code, `${option} ${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Reads a safetensors file; a malformed one is an RnnError naming the option and path. */
export async function readTensors(option: string, path: string): Promise<SafetensorsFile> {
  const bytes = new Uint8Array(await readInputFile(option, path, 'a safetensors file'));
  try {
    return readSafetensors(bytes);
  } catch (e) {
    throw e instanceof RnnError ? new RnnError(e.code, `${option} ${path}: ${e.message}`, { cause: e }) : e;
  }
}

/**
 * Writes an output file (checked beforehand with checkOutput) atomically: the bytes go to a temporary
 * file in the same folder, are flushed to disk, and the temporary file is renamed over the target — so
 * whenever the process dies (a kill, a crash, Ctrl-C), the target is the old file or the new one,
 * never a part of one. test/cli-files.test.ts kills writers at random moments to check it.
 */
export async function writeOutput(path: string, bytes: Uint8Array, option = '--out'): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fail = (e: NodeJS.ErrnoException): never => {
    throw new RnnError('FILE', `${option} ${path}: cannot be written (${e.code ?? e.message})`, { cause: e });
  };
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => undefined);
    fail(e as NodeJS.ErrnoException);
  }
  // The rename itself made durable where the system allows (a folder cannot be opened for sync everywhere).
  const dir = await open(folder, 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
  await removeStale(folder, basename(path));
}

/** Temporary files of this target that writers killed mid-write left behind (their process is gone). */
async function removeStale(folder: string, base: string): Promise<void> {
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await unlink(join(folder, name)).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: leave its file
  }
}

/** Runs `body`, naming `option path` in the message of an RnnError it throws (when a path was given). */
export function named<R>(option: string, path: string | undefined, body: () => R): R {
  const rename = (e: unknown) => (path !== undefined && e instanceof RnnError ? new RnnError(e.code, `${option} ${path}: ${e.message}`, { cause: e }) : e);
  try {
    const r = body();
    return (r instanceof Promise ? r.catch((e) => Promise.reject(rename(e))) : r) as R;
  } catch (e) {
    throw rename(e);
  }
}
