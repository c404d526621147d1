import { ModelLoadError } from '../errors.js';
import { ort } from '../providers.js';

/**
 * Greedy decoding with a Hugging Face Optimum "merged" decoder (one graph with and without KV
 * cache, switched by `use_cache_branch`), the layout Moonshine and transformers.js Whisper share.
 */
export class MergedDecoder {
  readonly layers: number;
  private readonly heads: number;
  private readonly headDim: number;

  constructor(
    readonly session: ort.InferenceSession,
    path: string,
  ) {
    this.layers = session.inputNames.filter((n) => /^past_key_values\.\d+\.decoder\.key$/.test(n)).length;
    const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.decoder.key');
    const shape = meta && meta.isTensor ? meta.shape : undefined;
    const heads = shape?.[1];
    const headDim = shape?.[3];
    if (this.layers === 0 || typeof heads !== 'number' || typeof headDim !== 'number' || !session.inputNames.includes('use_cache_branch')) {
      throw new ModelLoadError(path, `not a merged decoder with KV cache (inputs: ${session.inputNames.slice(0, 4).join(', ')}, ...)`);
    }
    this.heads = heads;
    this.headDim = headDim;
  }

  /**
   * Feeds `prompt` in the first step, then one token per step until `eos` or `maxTokens` new
   * tokens. `suppress(step, logits)` may lower logits of tokens that must not be chosen.
   */
  async greedy(
    hidden: ort.Tensor,
    prompt: readonly number[],
    eos: number,
    maxTokens: number,
    suppress?: (step: number, logits: Float32Array) => void,
  ): Promise<number[]> {
    const empty = new ort.Tensor('float32', new Float32Array(0), [1, this.heads, 0, this.headDim]);
    const past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.layers; l++) {
      for (const kind of ['decoder', 'encoder']) {
        for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kind}.${kv}`] = empty;
      }
    }
    const ids: number[] = [];
    let input: readonly number[] = prompt;
    for (let step = 0; step < maxTokens; step++) {
      const out = await this.session.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(input, BigInt), [1, input.length]),
        encoder_hidden_states: hidden,
        use_cache_branch: new ort.Tensor('bool', [step > 0], [1]),
        ...past,
      });
      const logits = out['logits'] as ort.Tensor;
      const vocab = logits.dims[logits.dims.length - 1] as number;
      const data = logits.data as Float32Array;
      const last = data.subarray(data.length - vocab);
      suppress?.(step, last);
      const token = argmax(last);
      if (token === eos) break;
      ids.push(token);
      input = [token];
      for (let l = 0; l < this.layers; l++) {
        for (const kv of ['key', 'value']) {
          past[`past_key_values.${l}.decoder.${kv}`] = out[`present.${l}.decoder.${kv}`] as ort.Tensor;
          // The cross-attention cache is computed on the first step only; later steps pass it through.
          if (step === 0) past[`past_key_values.${l}.encoder.${kv}`] = out[`present.${l}.encoder.${kv}`] as ort.Tensor;
        }
      }
    }
    return ids;
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}
