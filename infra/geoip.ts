// IP geolocation from geoip-lite's bundled database: an in-memory lookup, no network calls,
// so it may run inside the facts query's activity without a timeout of its own.
import { lookup } from 'geoip-lite';
import type { Geo, IpFacts } from '../domain/risk/facts';
import { ipKind, networkOf, normalizeIp } from '../domain/risk/geo';

// A record without a radius is at best a country centroid; a country-sized radius keeps
// travel speeds from treating it as a precise position.
const DEFAULT_ACCURACY_KM = 1000;

export function locateIp(ip: string): Geo | null {
  const address = normalizeIp(ip);
  if (address === null) return null;
  const found = lookup(address);
  if (!found || !/^[A-Z]{2}$/.test(found.country)) return null;
  const [lat, lon] = found.ll;
  // [0, 0] is the database's "somewhere" (a point in the Atlantic), not a location.
  if (typeof lat !== 'number' || typeof lon !== 'number' || (lat === 0 && lon === 0)) return null;
  return { country: found.country, lat, lon, accuracyKm: found.area ?? DEFAULT_ACCURACY_KM };
}

export function ipFacts(ip: string): IpFacts {
  const kind = ipKind(ip);
  return {
    ip,
    kind,
    network: networkOf(ip) ?? ip,
    geo: kind === 'public' ? locateIp(ip) : null,
  };
}
