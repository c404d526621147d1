/** Base class for every failure of the speech engines, so callers can tell them from bugs. */
export class SpeechError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The bytes are not a WAV file we can read; names the source, the field and the value at fault. */
export class WavFormatError extends SpeechError {
  constructor(
    readonly source: string,
    readonly field: string,
    readonly value: unknown,
    detail: string,
  ) {
    super(`${source}: invalid WAV (${field} = ${JSON.stringify(value)}): ${detail}`);
  }
}

/** Audio that an engine cannot take as given (wrong rate, empty, ...). */
export class AudioInputError extends SpeechError {}

/** A model could not be loaded or run (missing files, ORT failure). */
export class ModelLoadError extends SpeechError {
  constructor(
    readonly modelPath: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot load model ${modelPath}: ${detail}`, options);
  }
}

/** A voice id that no installed Piper voice has. */
export class UnknownVoiceError extends SpeechError {
  constructor(
    readonly voiceId: string,
    readonly knownVoices: readonly string[],
  ) {
    super(`unknown voice "${voiceId}"; known voices: ${knownVoices.join(', ') || '(none)'}`);
  }
}

/** espeak-ng is missing, died, or did not answer in time. */
export class PhonemizerError extends SpeechError {}

/** Text that cannot be synthesized (e.g. not a string). Text with nothing speakable is not an error: it yields no audio. */
export class TextInputError extends SpeechError {}

/** A model directory lacks files an engine needs; lists every missing one. */
export class ModelFilesMissingError extends SpeechError {
  constructor(
    readonly dir: string,
    readonly missing: readonly string[],
    hint: string,
  ) {
    super(`model directory ${dir} is missing ${missing.join(', ')}; ${hint}`);
  }
}

/** An engine or model choice (configuration) that cannot work: names which, the value, and what would. */
export class EngineChoiceError extends SpeechError {
  constructor(
    readonly field: 'engine' | 'model',
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field} ${JSON.stringify(value)} ${reason}`);
  }
}
