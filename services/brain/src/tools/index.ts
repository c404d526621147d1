export type { Tool, ToolContext } from './types.js';
export { ToolError } from './types.js';
export { ToolRegistry, type ToolOutcome } from './registry.js';
export { createCalculatorTool, evaluateExpression, CalculatorError } from './calculator.js';
export { createDateTimeTool } from './datetime.js';
export { createUnitsTool, convertUnits, findUnit, UnitError } from './units.js';
export { createWeatherTool, parseForecast, describeWeather, type WeatherToolOptions } from './weather.js';
