/** Base class so callers can catch every model-store failure with one instanceof. */
export class ModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The manifest file is missing, unreadable or has a field of the wrong shape. */
export class ManifestError extends ModelError {
  constructor(
    readonly manifestPath: string,
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid model manifest ${manifestPath}: ${field}: ${detail}`, options);
  }
}

/** A model id that the manifest does not list. */
export class UnknownModelError extends ModelError {
  constructor(
    readonly modelId: string,
    readonly knownIds: readonly string[],
  ) {
    super(`unknown model id "${modelId}"; known ids: ${knownIds.join(', ')}`);
  }
}

/** A file the manifest lists is not on disk (or has the wrong size): the models were not fetched. */
export class ModelFileMissingError extends ModelError {
  constructor(
    readonly modelId: string,
    readonly fileName: string,
    readonly filePath: string,
    reason: string,
  ) {
    super(
      `model file ${filePath} (model "${modelId}", file "${fileName}") ${reason}; run \`npm run models:fetch\` or \`arc models fetch ${modelId}\``,
    );
  }
}

/** Downloading or unpacking one source failed (unreachable registry, missing package, bad archive). */
export class ModelSourceError extends ModelError {
  constructor(
    readonly modelId: string,
    readonly source: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`model "${modelId}": source ${source} failed: ${detail}`, options);
  }
}

/** Every source of a model failed; `errors` holds one ModelSourceError per source tried. */
export class ModelFetchError extends ModelError {
  constructor(
    readonly modelId: string,
    readonly errors: readonly ModelSourceError[],
  ) {
    super(
      `model "${modelId}" could not be fetched from any source:\n` +
        errors.map((e) => `  - ${e.message}`).join('\n'),
    );
  }
}

/** A file's sha256 or size differs from the manifest. */
export class ModelChecksumError extends ModelError {
  constructor(
    readonly filePath: string,
    readonly expected: { sha256: string; size: number },
    readonly actual: { sha256: string; size: number },
  ) {
    super(
      `checksum mismatch for ${filePath}: expected sha256 ${expected.sha256} (${expected.size} bytes), ` +
        `got ${actual.sha256} (${actual.size} bytes)`,
    );
  }
}
