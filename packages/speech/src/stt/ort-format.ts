import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ModelLoadError } from '../errors.js';
import { ort } from '../providers.js';

/**
 * Why this exists: the Moonshine `.ort` files in moonshine-cpp store int8 weights that the graph
 * dequantizes (Cast → Mul → Transpose) on every run. onnxruntime does not constant-fold ORT-format
 * models, so each decoder step re-dequantizes ~40 M weights (~100 ms/token measured). Re-saving
 * the graph as ONNX and loading that lets onnxruntime fold the weights once at load time
 * (→ a few ms/token). onnxruntime itself writes the ONNX file; we only fill in subgraph names
 * (the ORT format drops them and the ONNX checker requires them).
 */
export async function onnxFromOrt(ortPath: string, cacheDir: string): Promise<string> {
  try {
    return await convert(ortPath, cacheDir);
  } catch {
    // A read-only model store (e.g. a mounted volume) still works: convert into the temp dir.
    // If that fails too, its error is the one reported.
    return convert(ortPath, join(tmpdir(), 'arc-onnx-cache'));
  }
}

async function convert(ortPath: string, cacheDir: string): Promise<string> {
  const src = statSync(ortPath);
  // The cache key is the source's size and mtime, so a re-fetched file is converted again.
  const out = join(cacheDir, `${basename(ortPath, '.ort')}.${src.size}-${Math.floor(src.mtimeMs)}.onnx`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    const session = await ort.InferenceSession.create(ortPath, { optimizedModelFilePath: tmp, graphOptimizationLevel: 'disabled' });
    await session.release();
    writeFileSync(tmp, nameSubgraphs(readFileSync(tmp)));
    renameSync(tmp, out);
    // Copies made from an earlier version of the same file are stale now.
    const prefix = `${basename(ortPath, '.ort')}.`;
    for (const f of readdirSync(cacheDir)) {
      if (f.startsWith(prefix) && f.endsWith('.onnx') && join(cacheDir, f) !== out) rmSync(join(cacheDir, f), { force: true });
    }
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw new ModelLoadError(ortPath, `converting ORT format to ONNX failed: ${(cause as Error).message}`, { cause });
  }
  return out;
}

// --- minimal protobuf rewriting: only the path ModelProto.graph → node → attribute → g/graphs ---

interface Field {
  num: number;
  wire: number;
  /** Bytes of the whole field (tag + payload) as read. */
  raw: Buffer;
  /** Payload of a length-delimited field. */
  body?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [result, pos];
    shift += 7;
  }
}

function writeVarint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function parseFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    let body: Buffer | undefined;
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      body = buf.subarray(p2, p2 + len);
      pos = p2 + len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    fields.push(body ? { num, wire, raw: buf.subarray(start, pos), body } : { num, wire, raw: buf.subarray(start, pos) });
  }
  return fields;
}

function lengthDelimited(num: number, body: Buffer): Buffer {
  return Buffer.concat([writeVarint(num * 8 + 2), writeVarint(body.length), body]);
}

function rewrite(fields: Field[], edit: (f: Field) => Buffer | undefined, extra: Buffer[] = []): Buffer {
  return Buffer.concat([...fields.map((f) => edit(f) ?? f.raw), ...extra]);
}

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_NAME = 2;
const NODE_NAME = 3;
const NODE_ATTRIBUTE = 5;
const ATTR_NAME = 1;
const ATTR_G = 6;
const ATTR_GRAPHS = 11;

export function nameSubgraphs(model: Buffer): Buffer {
  return rewrite(parseFields(model), (f) => (f.num === MODEL_GRAPH && f.body ? lengthDelimited(MODEL_GRAPH, patchGraph(f.body, 'main')) : undefined));
}

function patchGraph(graph: Buffer, name: string): Buffer {
  const fields = parseFields(graph);
  const hasName = fields.some((f) => f.num === GRAPH_NAME && f.body && f.body.length > 0);
  let n = 0;
  const body = rewrite(
    fields.filter((f) => !(f.num === GRAPH_NAME && !hasName)),
    (f) => (f.num === GRAPH_NODE && f.body ? lengthDelimited(GRAPH_NODE, patchNode(f.body, `${name}_n${n++}`)) : undefined),
    hasName ? [] : [lengthDelimited(GRAPH_NAME, Buffer.from(name, 'utf8'))],
  );
  return body;
}

function patchNode(node: Buffer, fallback: string): Buffer {
  const fields = parseFields(node);
  const nodeName = fields.find((f) => f.num === NODE_NAME)?.body?.toString('utf8') || fallback;
  return rewrite(fields, (f) => (f.num === NODE_ATTRIBUTE && f.body ? lengthDelimited(NODE_ATTRIBUTE, patchAttribute(f.body, nodeName)) : undefined));
}

function patchAttribute(attr: Buffer, nodeName: string): Buffer {
  const fields = parseFields(attr);
  const attrName = fields.find((f) => f.num === ATTR_NAME)?.body?.toString('utf8') ?? 'attr';
  let i = 0;
  return rewrite(fields, (f) => {
    if (!f.body || (f.num !== ATTR_G && f.num !== ATTR_GRAPHS)) return undefined;
    const name = `${nodeName}_${attrName}${f.num === ATTR_GRAPHS ? `_${i++}` : ''}`.replace(/[^A-Za-z0-9_]/g, '_');
    return lengthDelimited(f.num, patchGraph(f.body, name));
  });
}
