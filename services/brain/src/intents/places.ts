/**
 * Time zones of places people ask the time of. Lower-case place → IANA zone; countries with one
 * zone are here too. Anything else is passed to Intl as a zone name (e.g. "Europe/Vienna").
 */
const ZONES: Record<string, string> = {
  utc: 'UTC', gmt: 'UTC', greenwich: 'UTC',
  london: 'Europe/London', 'united kingdom': 'Europe/London', uk: 'Europe/London', england: 'Europe/London', edinburgh: 'Europe/London', dublin: 'Europe/Dublin', ireland: 'Europe/Dublin',
  paris: 'Europe/Paris', france: 'Europe/Paris', berlin: 'Europe/Berlin', germany: 'Europe/Berlin', munich: 'Europe/Berlin', madrid: 'Europe/Madrid', spain: 'Europe/Madrid', barcelona: 'Europe/Madrid',
  rome: 'Europe/Rome', italy: 'Europe/Rome', milan: 'Europe/Rome', amsterdam: 'Europe/Amsterdam', netherlands: 'Europe/Amsterdam', brussels: 'Europe/Brussels', belgium: 'Europe/Brussels',
  vienna: 'Europe/Vienna', austria: 'Europe/Vienna', zurich: 'Europe/Zurich', geneva: 'Europe/Zurich', switzerland: 'Europe/Zurich', stockholm: 'Europe/Stockholm', sweden: 'Europe/Stockholm',
  oslo: 'Europe/Oslo', norway: 'Europe/Oslo', copenhagen: 'Europe/Copenhagen', denmark: 'Europe/Copenhagen', helsinki: 'Europe/Helsinki', finland: 'Europe/Helsinki',
  warsaw: 'Europe/Warsaw', poland: 'Europe/Warsaw', prague: 'Europe/Prague', budapest: 'Europe/Budapest', athens: 'Europe/Athens', greece: 'Europe/Athens', lisbon: 'Europe/Lisbon', portugal: 'Europe/Lisbon',
  istanbul: 'Europe/Istanbul', turkey: 'Europe/Istanbul', moscow: 'Europe/Moscow', kyiv: 'Europe/Kyiv', kiev: 'Europe/Kyiv', ukraine: 'Europe/Kyiv',
  cairo: 'Africa/Cairo', egypt: 'Africa/Cairo', lagos: 'Africa/Lagos', nigeria: 'Africa/Lagos', nairobi: 'Africa/Nairobi', kenya: 'Africa/Nairobi', johannesburg: 'Africa/Johannesburg', 'cape town': 'Africa/Johannesburg', 'south africa': 'Africa/Johannesburg',
  dubai: 'Asia/Dubai', 'abu dhabi': 'Asia/Dubai', riyadh: 'Asia/Riyadh', tehran: 'Asia/Tehran', karachi: 'Asia/Karachi', pakistan: 'Asia/Karachi',
  delhi: 'Asia/Kolkata', 'new delhi': 'Asia/Kolkata', mumbai: 'Asia/Kolkata', bangalore: 'Asia/Kolkata', india: 'Asia/Kolkata', dhaka: 'Asia/Dhaka',
  bangkok: 'Asia/Bangkok', thailand: 'Asia/Bangkok', jakarta: 'Asia/Jakarta', singapore: 'Asia/Singapore', 'kuala lumpur': 'Asia/Kuala_Lumpur', manila: 'Asia/Manila',
  'hong kong': 'Asia/Hong_Kong', beijing: 'Asia/Shanghai', shanghai: 'Asia/Shanghai', china: 'Asia/Shanghai', taipei: 'Asia/Taipei', seoul: 'Asia/Seoul', korea: 'Asia/Seoul',
  tokyo: 'Asia/Tokyo', osaka: 'Asia/Tokyo', japan: 'Asia/Tokyo',
  sydney: 'Australia/Sydney', melbourne: 'Australia/Melbourne', brisbane: 'Australia/Brisbane', perth: 'Australia/Perth', auckland: 'Pacific/Auckland', 'new zealand': 'Pacific/Auckland', honolulu: 'Pacific/Honolulu', hawaii: 'Pacific/Honolulu',
  'new york': 'America/New_York', 'new york city': 'America/New_York', boston: 'America/New_York', washington: 'America/New_York', miami: 'America/New_York', atlanta: 'America/New_York', toronto: 'America/Toronto', montreal: 'America/Toronto',
  chicago: 'America/Chicago', houston: 'America/Chicago', dallas: 'America/Chicago', 'mexico city': 'America/Mexico_City', mexico: 'America/Mexico_City',
  denver: 'America/Denver', phoenix: 'America/Phoenix',
  'los angeles': 'America/Los_Angeles', 'san francisco': 'America/Los_Angeles', seattle: 'America/Los_Angeles', vancouver: 'America/Vancouver', 'las vegas': 'America/Los_Angeles', california: 'America/Los_Angeles',
  anchorage: 'America/Anchorage', alaska: 'America/Anchorage',
  'sao paulo': 'America/Sao_Paulo', 'são paulo': 'America/Sao_Paulo', rio: 'America/Sao_Paulo', 'rio de janeiro': 'America/Sao_Paulo', brazil: 'America/Sao_Paulo',
  'buenos aires': 'America/Argentina/Buenos_Aires', argentina: 'America/Argentina/Buenos_Aires', santiago: 'America/Santiago', chile: 'America/Santiago', lima: 'America/Lima', peru: 'America/Lima', bogota: 'America/Bogota', colombia: 'America/Bogota',
};

/** The IANA zone of a place ("Paris", "new york") or a zone name; undefined when unknown. */
export function zoneOf(place: string): string | undefined {
  const key = place.trim().toLowerCase().replace(/^the /, '').replace(/\s+/g, ' ');
  if (ZONES[key]) return ZONES[key];
  return isZone(place.trim()) ? place.trim() : undefined;
}

export function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
