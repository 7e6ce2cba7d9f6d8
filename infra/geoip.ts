// IP geolocation from geoip-lite's bundled database: an in-memory lookup, no network calls.
// Importing it loads about 150 MB of data into the process, so only the API imports it: an
// order's address is located at intake and stored with the order (orders.buyer_geo), and
// the worker's risk facts read it from there.
import { lookup } from 'geoip-lite';
import type { Geo, IpFacts } from '../domain/risk/facts';
import { canonicalIp } from '../domain/ip-address';
import { ipFactsOf, ipKind } from '../domain/risk/geo';

// A record without a radius is at best a country centroid; a country-sized radius keeps
// travel speeds from treating it as a precise position.
const DEFAULT_ACCURACY_KM = 1000;

export function locateIp(ip: string): Geo | null {
  // geoip-lite looks IPv4 up only in its IPv4 table: a mapped spelling must not miss it.
  const address = canonicalIp(ip);
  if (address === null) return null;
  const found = lookup(address);
  if (!found || !/^[A-Z]{2}$/.test(found.country)) return null;
  const [lat, lon] = found.ll;
  // [0, 0] is the database's "somewhere" (a point in the Atlantic), not a location.
  if (typeof lat !== 'number' || typeof lon !== 'number' || (lat === 0 && lon === 0)) return null;
  return { country: found.country, lat, lon, accuracyKm: found.area ?? DEFAULT_ACCURACY_KM };
}

export function ipFacts(ip: string): IpFacts {
  return ipFactsOf(ip, ipKind(ip) === 'public' ? locateIp(ip) : null);
}
