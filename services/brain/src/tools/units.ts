import { ToolError, type Tool } from './types.js';

/**
 * Unit conversion for the model and for the brain's direct answers: length, mass, volume,
 * time, speed, area and temperature. Every unit is a factor to its dimension's base unit
 * (temperatures are affine); names accept singular, plural and the usual abbreviations.
 */

interface Unit {
  readonly name: string;
  readonly plural: string;
  readonly dimension: 'length' | 'mass' | 'volume' | 'time' | 'speed' | 'area' | 'temperature' | 'data';
  /** base units per one of this unit (temperature: unused) */
  readonly factor: number;
  readonly aliases: readonly string[];
}

const u = (dimension: Unit['dimension'], name: string, plural: string, factor: number, ...aliases: string[]): Unit => ({ name, plural, dimension, factor, aliases });

const UNITS: readonly Unit[] = [
  u('length', 'millimeter', 'millimeters', 0.001, 'mm', 'millimetre', 'millimetres'),
  u('length', 'centimeter', 'centimeters', 0.01, 'cm', 'centimetre', 'centimetres'),
  u('length', 'meter', 'meters', 1, 'm', 'metre', 'metres'),
  u('length', 'kilometer', 'kilometers', 1000, 'km', 'kilometre', 'kilometres', 'kms'),
  u('length', 'inch', 'inches', 0.0254, 'in'),
  u('length', 'foot', 'feet', 0.3048, 'ft', 'foots'),
  u('length', 'yard', 'yards', 0.9144, 'yd', 'yds'),
  u('length', 'mile', 'miles', 1609.344, 'mi'),
  u('length', 'nautical mile', 'nautical miles', 1852, 'nmi'),
  u('mass', 'milligram', 'milligrams', 0.001, 'mg'),
  u('mass', 'gram', 'grams', 1, 'g', 'gramme', 'grammes'),
  u('mass', 'kilogram', 'kilograms', 1000, 'kg', 'kilo', 'kilos', 'kgs'),
  u('mass', 'tonne', 'tonnes', 1_000_000, 'metric ton', 'metric tons', 't'),
  u('mass', 'ounce', 'ounces', 28.349523125, 'oz'),
  u('mass', 'pound', 'pounds', 453.59237, 'lb', 'lbs'),
  u('mass', 'stone', 'stone', 6350.29318, 'stones', 'st'),
  u('volume', 'milliliter', 'milliliters', 0.001, 'ml', 'millilitre', 'millilitres'),
  u('volume', 'liter', 'liters', 1, 'l', 'litre', 'litres'),
  u('volume', 'cubic meter', 'cubic meters', 1000, 'cubic metre', 'cubic metres', 'm3'),
  u('volume', 'teaspoon', 'teaspoons', 0.00492892159375, 'tsp'),
  u('volume', 'tablespoon', 'tablespoons', 0.01478676478125, 'tbsp'),
  u('volume', 'fluid ounce', 'fluid ounces', 0.0295735295625, 'fl oz'),
  u('volume', 'cup', 'cups', 0.2365882365),
  u('volume', 'pint', 'pints', 0.473176473, 'pt'),
  u('volume', 'quart', 'quarts', 0.946352946, 'qt'),
  u('volume', 'gallon', 'gallons', 3.785411784, 'gal'),
  u('time', 'millisecond', 'milliseconds', 0.001, 'ms'),
  u('time', 'second', 'seconds', 1, 's', 'sec', 'secs'),
  u('time', 'minute', 'minutes', 60, 'min', 'mins'),
  u('time', 'hour', 'hours', 3600, 'h', 'hr', 'hrs'),
  u('time', 'day', 'days', 86_400),
  u('time', 'week', 'weeks', 604_800),
  u('time', 'year', 'years', 31_557_600, 'yr', 'yrs'),
  u('speed', 'meter per second', 'meters per second', 1, 'm/s', 'metres per second'),
  u('speed', 'kilometer per hour', 'kilometers per hour', 1000 / 3600, 'km/h', 'kph', 'kmh', 'kilometres per hour'),
  u('speed', 'mile per hour', 'miles per hour', 1609.344 / 3600, 'mph'),
  u('speed', 'knot', 'knots', 1852 / 3600, 'kn'),
  u('area', 'square meter', 'square meters', 1, 'm2', 'square metre', 'square metres'),
  u('area', 'square kilometer', 'square kilometers', 1_000_000, 'km2', 'square kilometre', 'square kilometres'),
  u('area', 'square foot', 'square feet', 0.09290304, 'sq ft'),
  u('area', 'square mile', 'square miles', 2_589_988.110336, 'sq mi'),
  u('area', 'acre', 'acres', 4046.8564224),
  u('area', 'hectare', 'hectares', 10_000, 'ha'),
  u('data', 'byte', 'bytes', 1, 'b'),
  u('data', 'kilobyte', 'kilobytes', 1000, 'kb'),
  u('data', 'megabyte', 'megabytes', 1e6, 'mb'),
  u('data', 'gigabyte', 'gigabytes', 1e9, 'gb'),
  u('data', 'terabyte', 'terabytes', 1e12, 'tb'),
  u('temperature', 'degree Celsius', 'degrees Celsius', 1, 'celsius', 'centigrade', 'c', '°c', 'degree celsius', 'degrees celsius', 'degrees centigrade'),
  u('temperature', 'degree Fahrenheit', 'degrees Fahrenheit', 1, 'fahrenheit', 'f', '°f', 'degree fahrenheit', 'degrees fahrenheit'),
  u('temperature', 'kelvin', 'kelvins', 1, 'k', 'kelvin'),
];

const BY_NAME = new Map<string, Unit>();
for (const unit of UNITS) for (const key of [unit.name, unit.plural, ...unit.aliases]) BY_NAME.set(key.toLowerCase(), unit);

export class UnitError extends ToolError {}

/** The unit a name stands for ("km", "miles", "degrees fahrenheit"); undefined when it is not one. */
export function findUnit(name: string): Unit | undefined {
  const key = name.trim().toLowerCase().replace(/\s+/g, ' ');
  return BY_NAME.get(key) ?? BY_NAME.get(key.replace(/^(degrees?|deg) /, ''));
}

export type { Unit };

function toCelsius(value: number, unit: Unit): number {
  if (unit.name === 'degree Fahrenheit') return ((value - 32) * 5) / 9;
  if (unit.name === 'kelvin') return value - 273.15;
  return value;
}

function fromCelsius(value: number, unit: Unit): number {
  if (unit.name === 'degree Fahrenheit') return (value * 9) / 5 + 32;
  if (unit.name === 'kelvin') return value + 273.15;
  return value;
}

/** Converts `value` from one unit to another; throws UnitError for unknown or mismatched units. */
export function convertUnits(value: number, from: string, to: string): { value: number; from: Unit; to: Unit } {
  const source = findUnit(from);
  const target = findUnit(to);
  if (!source) throw new UnitError(`unknown unit "${from}"`);
  if (!target) throw new UnitError(`unknown unit "${to}"`);
  if (source.dimension !== target.dimension) throw new UnitError(`cannot convert ${source.dimension} (${source.plural}) to ${target.dimension} (${target.plural})`);
  if (!Number.isFinite(value)) throw new UnitError(`"${value}" is not a number`);
  const converted = source.dimension === 'temperature' ? fromCelsius(toCelsius(value, source), target) : (value * source.factor) / target.factor;
  return { value: converted, from: source, to: target };
}

export function unitName(unit: Unit, value: number): string {
  return Math.abs(value) === 1 ? unit.name : unit.plural;
}

export function createUnitsTool(): Tool {
  return {
    spec: {
      name: 'convert_units',
      description: 'Convert a quantity between units of length, mass, volume, time, speed, area, data or temperature.',
      parameters: {
        type: 'object',
        properties: {
          value: { type: 'number', description: 'the quantity to convert' },
          from: { type: 'string', description: 'unit of the value, e.g. "miles", "kg", "fahrenheit"' },
          to: { type: 'string', description: 'unit wanted, e.g. "kilometers", "pounds", "celsius"' },
        },
        required: ['value', 'from', 'to'],
        additionalProperties: false,
      },
    },
    async run(args) {
      const value = typeof args['value'] === 'number' ? args['value'] : Number(args['value']);
      if (typeof args['from'] !== 'string' || typeof args['to'] !== 'string') throw new UnitError('"from" and "to" must be unit names');
      const result = convertUnits(value, args['from'], args['to']);
      return `${value} ${unitName(result.from, value)} = ${result.value} ${unitName(result.to, result.value)}`;
    },
  };
}
