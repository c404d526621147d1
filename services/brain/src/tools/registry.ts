import type { ToolCall, ToolSpec } from '../model/types.js';
import { ToolError, type Tool, type ToolContext } from './types.js';

export interface ToolOutcome {
  readonly name: string;
  readonly ok: boolean;
  /** tool result, or an `error: …` text the model can read and answer from */
  readonly content: string;
}

/** The tools a model may call. Invoking never throws: every failure becomes a tool message. */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: readonly Tool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: Tool): void {
    if (this.tools.has(tool.spec.name)) throw new Error(`tool "${tool.spec.name}" is registered twice`);
    this.tools.set(tool.spec.name, tool);
  }

  get size(): number {
    return this.tools.size;
  }

  specs(): ToolSpec[] {
    return [...this.tools.values()].map((tool) => tool.spec);
  }

  async invoke(call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
    const tool = this.tools.get(call.name);
    if (!tool) {
      return { name: call.name, ok: false, content: `error: there is no tool named "${call.name}"; available: ${[...this.tools.keys()].join(', ')}` };
    }
    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return { name: call.name, ok: false, content: `error: the arguments for ${call.name} are not valid JSON: ${call.arguments.slice(0, 200)}` };
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return { name: call.name, ok: false, content: `error: the arguments for ${call.name} must be a JSON object` };
    }
    try {
      return { name: call.name, ok: true, content: await tool.run(args as Record<string, unknown>, context) };
    } catch (error) {
      // a ToolError is expected (bad input, service down); anything else is a bug in the tool,
      // but the conversation goes on either way
      const message = error instanceof ToolError ? error.message : `${call.name} failed unexpectedly: ${String(error)}`;
      return { name: call.name, ok: false, content: `error: ${message}` };
    }
  }
}
