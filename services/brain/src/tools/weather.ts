import { ToolError, type Tool, type ToolContext } from './types.js';

export interface WeatherToolOptions {
  /** Open-Meteo-compatible forecast API base, e.g. https://api.open-meteo.com; undefined = not configured */
  readonly forecastUrl: string | undefined;
  /** Open-Meteo-compatible geocoding API base, for place names; undefined = coordinates only */
  readonly geocodingUrl: string | undefined;
  /** one HTTP call may take at most this long, even with time left on the request deadline */
  readonly timeoutMs?: number;
}

/** WMO weather interpretation codes, as Open-Meteo reports them. */
const WMO_CODES: Record<number, string> = {
  0: 'clear sky', 1: 'mainly clear', 2: 'partly cloudy', 3: 'overcast', 45: 'fog', 48: 'freezing fog',
  51: 'light drizzle', 53: 'drizzle', 55: 'dense drizzle', 56: 'freezing drizzle', 57: 'freezing drizzle',
  61: 'light rain', 63: 'rain', 65: 'heavy rain', 66: 'freezing rain', 67: 'freezing rain',
  71: 'light snow', 73: 'snow', 75: 'heavy snow', 77: 'snow grains', 80: 'light showers', 81: 'showers',
  82: 'violent showers', 85: 'snow showers', 86: 'heavy snow showers', 95: 'thunderstorm', 96: 'thunderstorm with hail',
  99: 'thunderstorm with heavy hail',
};

export interface CurrentWeather {
  readonly place: string;
  readonly temperature: number;
  readonly temperatureUnit: string;
  readonly windSpeed: number | undefined;
  readonly windSpeedUnit: string;
  readonly description: string | undefined;
}

/** Reads the `current` block of an Open-Meteo forecast response; throws ToolError when it is not one. */
export function parseForecast(body: unknown, place: string): CurrentWeather {
  const current = (body as { current?: Record<string, unknown> } | null)?.current;
  const units = (body as { current_units?: Record<string, unknown> } | null)?.current_units ?? {};
  const temperature = current?.['temperature_2m'];
  if (typeof temperature !== 'number') throw new ToolError('the weather service answered without current.temperature_2m');
  const wind = current?.['wind_speed_10m'];
  const code = current?.['weather_code'];
  return {
    place,
    temperature,
    temperatureUnit: typeof units['temperature_2m'] === 'string' ? units['temperature_2m'] : '°C',
    windSpeed: typeof wind === 'number' ? wind : undefined,
    windSpeedUnit: typeof units['wind_speed_10m'] === 'string' ? units['wind_speed_10m'] : 'km/h',
    description: typeof code === 'number' ? WMO_CODES[code] : undefined,
  };
}

export function describeWeather(weather: CurrentWeather): string {
  const parts = [`${weather.place}: ${weather.temperature} ${weather.temperatureUnit}`];
  if (weather.description) parts.push(weather.description);
  if (weather.windSpeed !== undefined) parts.push(`wind ${weather.windSpeed} ${weather.windSpeedUnit}`);
  return parts.join(', ');
}

/** Current weather over HTTP from an Open-Meteo-compatible service. */
export function createWeatherTool(options: WeatherToolOptions): Tool {
  const timeoutMs = options.timeoutMs ?? 5_000;

  async function getJson(url: URL, context: ToolContext, what: string): Promise<unknown> {
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    } catch (error) {
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new ToolError(`the ${what} service at ${url.origin} could not be reached (${reason})`, { cause: error });
    }
    if (!response.ok) throw new ToolError(`the ${what} service at ${url.origin} answered HTTP ${response.status}`);
    try {
      return await response.json();
    } catch (error) {
      throw new ToolError(`the ${what} service at ${url.origin} answered with invalid JSON`, { cause: error });
    }
  }

  async function geocode(name: string, context: ToolContext): Promise<{ latitude: number; longitude: number; place: string }> {
    if (!options.geocodingUrl) {
      throw new ToolError(`place names cannot be looked up (WEATHER_GEOCODING_URL is not set); pass latitude and longitude`);
    }
    const url = new URL('v1/search', withSlash(options.geocodingUrl));
    url.searchParams.set('name', name);
    url.searchParams.set('count', '1');
    const body = (await getJson(url, context, 'geocoding')) as { results?: { latitude?: unknown; longitude?: unknown; name?: unknown; country?: unknown }[] };
    const first = body.results?.[0];
    if (!first || typeof first.latitude !== 'number' || typeof first.longitude !== 'number') {
      throw new ToolError(`no place called "${name}" was found`);
    }
    const place = [first.name, first.country].filter((p) => typeof p === 'string').join(', ') || name;
    return { latitude: first.latitude, longitude: first.longitude, place };
  }

  return {
    spec: {
      name: 'weather_api',
      description: 'Current weather for a place name or coordinates.',
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'city name, e.g. "San Francisco"' },
          latitude: { type: 'number' },
          longitude: { type: 'number' },
        },
        additionalProperties: false,
      },
    },
    async run(args, context) {
      if (!options.forecastUrl) {
        throw new ToolError('weather is not available: no weather service is configured (set WEATHER_API_URL to an Open-Meteo-compatible endpoint)');
      }
      let latitude = args['latitude'];
      let longitude = args['longitude'];
      let place: string;
      if (typeof latitude === 'number' && typeof longitude === 'number') {
        place = `${latitude}, ${longitude}`;
      } else {
        const profileLocation = context.userProfile?.['location'];
        const name = typeof args['location'] === 'string' && args['location'] ? args['location'] : typeof profileLocation === 'string' ? profileLocation : undefined;
        if (!name) throw new ToolError('say which place: give "location" or "latitude" and "longitude"');
        ({ latitude, longitude, place } = await geocode(name, context));
      }
      if (typeof latitude !== 'number' || Math.abs(latitude) > 90 || typeof longitude !== 'number' || Math.abs(longitude) > 180) {
        throw new ToolError(`coordinates out of range: ${String(latitude)}, ${String(longitude)}`);
      }
      const url = new URL('v1/forecast', withSlash(options.forecastUrl));
      url.searchParams.set('latitude', String(latitude));
      url.searchParams.set('longitude', String(longitude));
      url.searchParams.set('current', 'temperature_2m,weather_code,wind_speed_10m');
      return describeWeather(parseForecast(await getJson(url, context, 'weather'), place));
    },
  };
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
