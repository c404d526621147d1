import type { ToolSpec } from '../model/types.js';

export interface ToolContext {
  /** aborted at the request deadline; HTTP tools pass it on */
  readonly signal: AbortSignal;
  /** what the request said about the user (location, timezone, …) */
  readonly userProfile: Readonly<Record<string, unknown>> | undefined;
}

export interface Tool {
  readonly spec: ToolSpec;
  /** returns the text handed back to the model; throws ToolError for an answerable failure */
  run(args: Record<string, unknown>, context: ToolContext): Promise<string>;
}

/** A tool could not do what was asked; the message goes back to the model as the tool result. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
