// What the platform knows about an order or a claim when it assesses risk. SQL gathers these
// facts; the rules are pure functions of them, so every verdict can be replayed from its facts.
import { z } from 'zod';

export const WINDOWS = ['1m', '1h', '24h'] as const;
export const WindowSchema = z.enum(WINDOWS);
export type Window = z.infer<typeof WindowSchema>;

const count = z.number().int().nonnegative();

export const CounterSchema = z.strictObject({ orders: count, units: count, amountMinor: count });
export type Counter = z.infer<typeof CounterSchema>;

/** Activity of one key (buyer, device, IP, network) in each window, the current order included. */
export const WindowCountsSchema = z.record(WindowSchema, CounterSchema);
export type WindowCounts = z.infer<typeof WindowCountsSchema>;

/** ISO 3166-1 alpha-2, as geoip-lite reports it. */
export const CountryCodeSchema = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code');

export const GeoSchema = z.strictObject({
  country: CountryCodeSchema,
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  // A country-level match sits at the country's centroid with a radius of hundreds of km;
  // travel speeds must not treat that as a precise position.
  accuracyKm: z.number().nonnegative(),
});
export type Geo = z.infer<typeof GeoSchema>;

export const IP_KINDS = ['public', 'private', 'reserved', 'invalid'] as const;
export const IpKindSchema = z.enum(IP_KINDS);
export type IpKind = z.infer<typeof IpKindSchema>;

export const IpFactsSchema = z.strictObject({
  /** The address as the request carried it. */
  ip: z.string(),
  kind: IpKindSchema,
  /** The /24 (IPv4) or /48 (IPv6) in CIDR text; for an invalid address, the text itself. */
  network: z.string(),
  /** Only public addresses are located. */
  geo: GeoSchema.nullable(),
});
export type IpFacts = z.infer<typeof IpFactsSchema>;

export const ListHitSchema = z.strictObject({
  list: z.enum(['allow', 'deny']),
  kind: z.enum(['buyer', 'device', 'ip']),
  value: z.string(),
  note: z.string().nullable(),
});
export type ListHit = z.infer<typeof ListHitSchema>;

const instant = z.iso.datetime({ offset: true });
const id = z.string().min(1);

const BuyerSchema = z.strictObject({ id, deviceId: id.nullable() });

export const OrderFactsSchema = z.strictObject({
  kind: z.literal('order'),
  at: instant,
  buyer: BuyerSchema,
  ip: IpFactsSchema,
  items: z.array(z.strictObject({ sku: id, units: z.number().int().positive() })).min(1),
  velocity: z.strictObject({
    buyer: WindowCountsSchema,
    device: WindowCountsSchema.nullable(),
    ip: WindowCountsSchema,
    network: WindowCountsSchema,
  }),
  buyersOnDevice24h: count.nullable(),
  buyersOnIp24h: count,
  /** Units delivered to the buyer whose keys the buyer has not revealed yet. */
  unclaimedUnits: count,
  /** Per SKU of this order: the buyer's units in the last 24 h (this order included), and
   *  their average units per day over the 30 days before that. */
  skuHistory: z.array(z.strictObject({ sku: id, units24h: count, dailyAverage30d: z.number().nonnegative() })),
  /** The buyer's previous order, for travel between orders. */
  previous: z.strictObject({ at: instant, ip: IpFactsSchema }).nullable(),
  lists: z.array(ListHitSchema),
});
export type OrderFacts = z.infer<typeof OrderFactsSchema>;

/** A buyer revealing a delivered key through a claim link. */
export const ClaimFactsSchema = z.strictObject({
  kind: z.literal('claim'),
  at: instant,
  orderId: id,
  buyer: BuyerSchema,
  /** The claiming request's address. */
  ip: IpFactsSchema,
  /** The address the order was placed from. */
  orderIp: IpFactsSchema,
  orderAt: instant,
  lists: z.array(ListHitSchema),
});
export type ClaimFacts = z.infer<typeof ClaimFactsSchema>;

export const RiskFactsSchema = z.discriminatedUnion('kind', [OrderFactsSchema, ClaimFactsSchema]);
export type RiskFacts = z.infer<typeof RiskFactsSchema>;
