// geoip-lite ships no types and there is no @types package in this tree; only what
// infra/geoip.ts uses is declared.
declare module 'geoip-lite' {
  export interface Lookup {
    range: [number, number] | string;
    /** ISO 3166-1 alpha-2; empty when the range has no country. */
    country: string;
    region: string;
    city: string;
    timezone: string;
    /** [latitude, longitude]; [null, null] when unknown. */
    ll: [number | null, number | null];
    /** Accuracy radius in km. */
    area?: number;
  }
  export function lookup(ip: string | number): Lookup | null;
}
