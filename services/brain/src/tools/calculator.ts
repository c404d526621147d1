import { ToolError, type Tool } from './types.js';

/**
 * Arithmetic for the model, which is bad at it. A small recursive-descent parser over numbers,
 * + - * / % ^, parentheses, a few functions and constants — never `eval`, so a prompt cannot
 * smuggle code in.
 *
 *   expression := term (('+' | '-') term)*
 *   term       := power (('*' | '/' | '%') power)*
 *   unary      := ('-' | '+') unary | power     so -3^2 = -(3^2), as in mathematics
 *   power      := call ('^' unary)?             right-associative: 2^3^2 = 2^9
 *   call       := name '(' expression (',' expression)* ')' | name | number | '(' expression ')'
 */

const MAX_EXPRESSION_CHARS = 500;

const FUNCTIONS: Record<string, { arity: number | 'many'; fn: (...values: number[]) => number }> = {
  sqrt: { arity: 1, fn: Math.sqrt },
  abs: { arity: 1, fn: Math.abs },
  round: { arity: 1, fn: Math.round },
  floor: { arity: 1, fn: Math.floor },
  ceil: { arity: 1, fn: Math.ceil },
  sin: { arity: 1, fn: Math.sin },
  cos: { arity: 1, fn: Math.cos },
  tan: { arity: 1, fn: Math.tan },
  ln: { arity: 1, fn: Math.log },
  log: { arity: 1, fn: Math.log10 },
  exp: { arity: 1, fn: Math.exp },
  min: { arity: 'many', fn: Math.min },
  max: { arity: 'many', fn: Math.max },
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export class CalculatorError extends ToolError {}

type Token = { kind: 'number'; value: number; at: number } | { kind: 'name'; value: string; at: number } | { kind: 'op'; value: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[0-9.]/.test(ch)) {
      const match = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
      if (!match) throw new CalculatorError(`unexpected character "${ch}" at position ${i}`);
      tokens.push({ kind: 'number', value: Number(match[0]), at: i });
      i += match[0].length;
    } else if (/[a-zA-Z_]/.test(ch)) {
      const name = /^[a-zA-Z_]\w*/.exec(source.slice(i))![0];
      tokens.push({ kind: 'name', value: name.toLowerCase(), at: i });
      i += name.length;
    } else if ('+-*/%^(),'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch, at: i });
      i++;
    } else if (ch === '×' || ch === '÷') {
      tokens.push({ kind: 'op', value: ch === '×' ? '*' : '/', at: i });
      i++;
    } else {
      throw new CalculatorError(`unexpected character "${ch}" at position ${i}`);
    }
  }
  return tokens;
}

/** Evaluates an arithmetic expression; throws CalculatorError naming what is wrong. */
export function evaluateExpression(source: string): number {
  if (source.length > MAX_EXPRESSION_CHARS) throw new CalculatorError(`expression longer than ${MAX_EXPRESSION_CHARS} characters`);
  const tokens = tokenize(source.replace(/\*\*/g, '^'));
  let position = 0;
  let depth = 0;

  const peek = (): Token | undefined => tokens[position];
  const isOp = (value: string): boolean => {
    const token = peek();
    return token?.kind === 'op' && token.value === value;
  };
  const expectOp = (value: string): void => {
    if (!isOp(value)) throw new CalculatorError(`expected "${value}" ${describe(peek())}`);
    position++;
  };
  const describe = (token: Token | undefined): string => (token ? `at position ${token.at}` : 'at the end');

  function expression(): number {
    // deep nesting is the one way a short input could exhaust the stack
    if (++depth > 100) throw new CalculatorError('expression nests too deeply');
    let value = term();
    while (isOp('+') || isOp('-')) {
      const op = tokens[position++]!.value;
      value = op === '+' ? value + term() : value - term();
    }
    depth--;
    return value;
  }
  function term(): number {
    let value = unary();
    while (isOp('*') || isOp('/') || isOp('%')) {
      const op = tokens[position++]!.value;
      const right = unary();
      if ((op === '/' || op === '%') && right === 0) throw new CalculatorError('division by zero');
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  }
  function power(): number {
    const base = primary();
    if (isOp('^')) {
      position++;
      return base ** unary();
    }
    return base;
  }
  function unary(): number {
    if (isOp('-')) {
      position++;
      return -unary();
    }
    if (isOp('+')) {
      position++;
      return unary();
    }
    return power();
  }
  function primary(): number {
    const token = peek();
    if (!token) throw new CalculatorError('expression ends too early');
    if (token.kind === 'number') {
      position++;
      return token.value;
    }
    if (token.kind === 'op' && token.value === '(') {
      position++;
      const value = expression();
      expectOp(')');
      return value;
    }
    if (token.kind === 'name') {
      position++;
      // own properties only: "constructor" or "__proto__" must not reach Object.prototype
      const fn = Object.hasOwn(FUNCTIONS, token.value) ? FUNCTIONS[token.value] : undefined;
      if (fn) {
        expectOp('(');
        const args = [expression()];
        while (isOp(',')) {
          position++;
          args.push(expression());
        }
        expectOp(')');
        if (fn.arity !== 'many' && args.length !== fn.arity) {
          throw new CalculatorError(`${token.value}() takes ${fn.arity} argument(s), got ${args.length}`);
        }
        return fn.fn(...args);
      }
      const constant = Object.hasOwn(CONSTANTS, token.value) ? CONSTANTS[token.value] : undefined;
      if (constant !== undefined) return constant;
      throw new CalculatorError(`unknown name "${token.value}" at position ${token.at}`);
    }
    throw new CalculatorError(`unexpected "${token.value}" ${describe(token)}`);
  }

  if (tokens.length === 0) throw new CalculatorError('empty expression');
  const value = expression();
  if (position < tokens.length) throw new CalculatorError(`unexpected "${tokens[position]!.value}" ${describe(tokens[position])}`);
  if (!Number.isFinite(value)) throw new CalculatorError('the result is not a finite number');
  return value;
}

/** Formats without binary noise: 0.1 + 0.2 → "0.3". */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

export function createCalculatorTool(): Tool {
  return {
    spec: {
      name: 'calculator',
      description: 'Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt, abs, round, floor, ceil, sin, cos, tan, ln, log, exp, min, max, pi, e.',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string', description: 'e.g. "(12.5 * 4) / 3"' } },
        required: ['expression'],
        additionalProperties: false,
      },
    },
    async run(args) {
      const expression = args['expression'];
      if (typeof expression !== 'string') throw new ToolError('calculator needs an "expression" string');
      return `${expression} = ${formatNumber(evaluateExpression(expression))}`;
    },
  };
}
