import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { CalculatorError, evaluateExpression, createCalculatorTool } from './calculator.js';
import { createDateTimeTool } from './datetime.js';
import { createWeatherTool, describeWeather, parseForecast } from './weather.js';
import { ToolRegistry } from './registry.js';
import { ToolError, type Tool } from './types.js';

const context = { signal: new AbortController().signal, userProfile: undefined };

test('calculator: precedence, associativity, functions, constants', () => {
  assert.equal(evaluateExpression('2 + 3 * 4'), 14);
  assert.equal(evaluateExpression('(2 + 3) * 4'), 20);
  assert.equal(evaluateExpression('2 ^ 3 ^ 2'), 512, '^ is right-associative');
  assert.equal(evaluateExpression('2 ** 10'), 1024);
  assert.equal(evaluateExpression('-3^2'), -9);
  assert.equal(evaluateExpression('2^-1'), 0.5);
  assert.equal(evaluateExpression('10 % 4 - -1'), 3);
  assert.equal(evaluateExpression('sqrt(16) + abs(-2) + max(1, 7, 3) + min(4, 2)'), 15);
  assert.equal(evaluateExpression('12 × 3 ÷ 4'), 9);
  assert.ok(Math.abs(evaluateExpression('2 * pi') - 2 * Math.PI) < 1e-12);
  assert.equal(evaluateExpression('1.5e3 / .5'), 3000);
});

test('calculator: rejects what is not arithmetic, naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['', /empty expression/],
    ['1 / 0', /division by zero/],
    ['2 +', /ends too early/],
    ['(1 + 2', /expected "\)"/],
    ['process.exit(1)', /unexpected character "\." at position 7/],
    ['process', /unknown name "process"/],
    ['constructor', /unknown name "constructor"/],
    ['constructor(1)', /unknown name "constructor"/],
    ['__proto__', /unknown name "__proto__"/],
    ['1; 2', /unexpected character ";"/],
    ['sqrt(1, 2)', /takes 1 argument/],
    ['10 ^ 400', /not a finite number/],
    ['('.repeat(200) + '1' + ')'.repeat(200), /nests too deeply/],
    ['1'.repeat(501), /longer than 500/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => evaluateExpression(input), (error: unknown) => error instanceof CalculatorError && message.test(error.message), input.slice(0, 30));
  }
});

test('calculator tool formats without float noise', async () => {
  assert.equal(await createCalculatorTool().run({ expression: '0.1 + 0.2' }, context), '0.1 + 0.2 = 0.3');
  await assert.rejects(createCalculatorTool().run({}, context), ToolError);
});

test('date/time tool tells the real time in the requested or profile timezone', async () => {
  const fixed = new Date('2026-03-04T05:06:00Z');
  const tool = createDateTimeTool(() => fixed);
  assert.match(await tool.run({}, context), /Wednesday, March 4, 2026.*05:06.*UTC.*2026-03-04T05:06:00.000Z/);
  assert.match(await tool.run({ timezone: 'Asia/Tokyo' }, context), /March 4, 2026.*14:06/);
  assert.match(await tool.run({}, { ...context, userProfile: { timezone: 'America/New_York' } }), /March 4, 2026.*00:06/);
  await assert.rejects(tool.run({ timezone: 'Mars/Olympus' }, context), /unknown timezone "Mars\/Olympus"/);
  const real = await createDateTimeTool().run({}, context);
  assert.ok(real.includes(String(new Date().getUTCFullYear())));
});

test('weather tool without an endpoint answers with a clear tool error', async () => {
  const tool = createWeatherTool({ forecastUrl: undefined, geocodingUrl: undefined });
  await assert.rejects(tool.run({ location: 'Paris' }, context), /no weather service is configured \(set WEATHER_API_URL/);
});

test('weather tool: unreachable service, missing place, bad coordinates are tool errors', async () => {
  // a port that was free a moment ago: connection refused, quickly
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const tool = createWeatherTool({ forecastUrl: `http://127.0.0.1:${port}`, geocodingUrl: undefined });
  await assert.rejects(tool.run({ latitude: 48.85, longitude: 2.35 }, context), /weather service at http:\/\/127\.0\.0\.1:\d+ could not be reached/);
  await assert.rejects(tool.run({ location: 'Paris' }, context), /WEATHER_GEOCODING_URL is not set/);
  await assert.rejects(tool.run({}, context), /say which place/);
  await assert.rejects(tool.run({ latitude: 123, longitude: 2 }, context), /coordinates out of range/);
});

test('weather: Open-Meteo current block → a sentence', () => {
  const body = {
    current_units: { temperature_2m: '°F', wind_speed_10m: 'mp/h' },
    current: { time: '2026-11-22T09:00', temperature_2m: 68, weather_code: 0, wind_speed_10m: 5.2 },
  };
  assert.equal(describeWeather(parseForecast(body, 'San Francisco')), 'San Francisco: 68 °F, clear sky, wind 5.2 mp/h');
  assert.throws(() => parseForecast({ current: {} }, 'x'), /without current\.temperature_2m/);
});

test('registry: unknown tools, bad JSON, non-object args and throwing tools never throw', async () => {
  const exploding: Tool = {
    spec: { name: 'exploding', description: 'always fails', parameters: { type: 'object' } },
    async run() {
      throw new TypeError('kaboom');
    },
  };
  const registry = new ToolRegistry([createCalculatorTool(), exploding]);
  assert.throws(() => registry.register(exploding), /registered twice/);
  const call = (name: string, args: string) => registry.invoke({ id: 'c', name, arguments: args }, context);
  assert.deepEqual(await call('calculator', '{"expression":"6*7"}'), { name: 'calculator', ok: true, content: '6*7 = 42' });
  assert.match((await call('nope', '{}')).content, /^error: there is no tool named "nope"; available: calculator, exploding$/);
  assert.match((await call('calculator', '{oops')).content, /^error: the arguments for calculator are not valid JSON/);
  assert.match((await call('calculator', '[1]')).content, /must be a JSON object/);
  assert.match((await call('calculator', '{"expression":"1/0"}')).content, /^error: division by zero$/);
  const failed = await call('exploding', '');
  assert.equal(failed.ok, false);
  assert.match(failed.content, /^error: exploding failed unexpectedly: TypeError: kaboom$/);
});
