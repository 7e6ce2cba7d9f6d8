// Issue 29: one canonical form for a client address (domain/ip-address.ts). IPv4-mapped and
// IPv4-compatible IPv6 spellings are the IPv4 address; IPv6 is RFC 5952 text; a zone id is
// dropped; anything else is not an address. Checked against two independent references:
// node:net's isIP (which texts are addresses) and the WHATWG URL serialiser (RFC 5952 text).
import { isIP } from 'node:net';
import fc from 'fast-check';
import {
  canonicalIp,
  clientBucketOf,
  formatNetwork,
  IpAddressSchema,
  parseIp,
  parseIpNetwork,
} from '../../domain/ip-address';

describe('canonicalIp', () => {
  test.each([
    ['8.8.4.4', '8.8.4.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    // IPv4-mapped, every way it is written: one IPv4 address.
    ['::ffff:8.8.4.4', '8.8.4.4'],
    ['::FFFF:8.8.4.4', '8.8.4.4'],
    ['::ffff:808:404', '8.8.4.4'],
    ['::FFFF:0808:0404', '8.8.4.4'],
    ['0:0:0:0:0:ffff:808:404', '8.8.4.4'],
    ['0000:0000:0000:0000:0000:FFFF:0808:0404', '8.8.4.4'],
    ['0:0:0:0:0:ffff:8.8.4.4', '8.8.4.4'],
    ['::0:ffff:808:404', '8.8.4.4'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::ffff:0:0', '0.0.0.0'],
    // IPv4-compatible (deprecated, but spelled by some stacks and by anyone probing).
    ['::8.8.4.4', '8.8.4.4'],
    ['::808:404', '8.8.4.4'],
    ['0:0:0:0:0:0:8.8.4.4', '8.8.4.4'],
    ['::2', '0.0.0.2'],
    // … but :: and ::1 keep their IPv6 meaning.
    ['::', '::'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::0.0.0.1', '::1'],
    // RFC 5952: lower case, no leading zeros, the longest zero run (first on a tie), never one group.
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['2001:db8::ffff:1.2.3.4', '2001:db8::ffff:102:304'], // a dotted tail elsewhere is just hex
    // Not IPv4 carried in IPv6: translation prefixes stay IPv6 addresses.
    ['::ffff:0:8.8.4.4', '::ffff:0:808:404'],
    ['64:ff9b::8.8.4.4', '64:ff9b::808:404'],
    // A zone id is dropped (see the module header for why).
    ['fe80::1%eth0', 'fe80::1'],
    ['FE80::1%25', 'fe80::1'],
    ['fe80::1%en0.100', 'fe80::1'],
    ['::ffff:8.8.4.4%eth0', '8.8.4.4'],
  ])('%j → %j', (written, canonical) => {
    expect(canonicalIp(written)).toBe(canonical);
  });

  test.each([
    '',
    ' 8.8.8.8',
    '8.8.8.8 ',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '8.8.8.8/32',
    '8.8.8.8%eth0',
    'fe80::1%',
    'fe80::1%eth0%1',
    'fe80::1%eth 0',
    `fe80::1%${'e'.repeat(65)}`,
    '1::2::3',
    ':1::',
    '1::2:',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '1:2:3:4:5:6::1.2.3.4',
    '12345::',
    'g::',
    '::ffff:8.8.4',
    '::ffff:08.8.4.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'garbage',
    'localhost',
    'x'.repeat(200),
  ])('%j is not an address', (text) => {
    expect(canonicalIp(text)).toBeNull();
  });
});

// Address-like text: eight 16-bit groups, spelled with or without leading zeros, in either
// case, with a zero run (or part of one) as `::`, the last two groups as a dotted quad, and a
// zone id — every liberty RFC 4291 gives a writer.
const spelling = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    upper: fc.boolean(),
    dotted: fc.boolean(),
    compress: fc.nat(),
    zone: fc.option(fc.constantFrom('eth0', '1', 'en0.100'), { nil: undefined }),
  })
  .map(spell);

function spell(s: {
  groups: number[];
  pad: boolean[];
  upper: boolean;
  dotted: boolean;
  compress: number;
  zone: string | undefined;
}): { text: string; value: bigint } {
  const value = s.groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  const hex = s.groups.map((g, i) => {
    const h = g.toString(16);
    const padded = s.pad[i] ? h.padStart(4, '0') : h;
    return s.upper ? padded.toUpperCase() : padded;
  });
  const words: string[] = s.dotted
    ? [...hex.slice(0, 6), [s.groups[6]! >> 8, s.groups[6]! & 0xff, s.groups[7]! >> 8, s.groups[7]! & 0xff].join('.')]
    : hex;
  // Candidate `::` spans: any run of zero groups among the hex words (a dotted quad is never elided).
  const hexCount = s.dotted ? 6 : 8;
  const spans: [number, number][] = [];
  for (let i = 0; i < hexCount; i++) {
    for (let j = i; j < hexCount && s.groups[j] === 0; j++) spans.push([i, j + 1]);
  }
  const span = spans.length > 0 && s.compress % 3 !== 0 ? spans[s.compress % spans.length] : undefined;
  const body = span ? `${words.slice(0, span[0]).join(':')}::${words.slice(span[1]).join(':')}` : words.join(':');
  return { text: s.zone ? `${body}%${s.zone}` : body, value };
}

const ipv4 = fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 255 })));

describe('properties', () => {
  test('canonical(canonical(x)) == canonical(x), and the canonical text spells the same address', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          spelling.map((s) => s.text),
          fc.string({ maxLength: 45 }),
        ),
        (text) => {
          const once = canonicalIp(text);
          if (once === null) return;
          expect(canonicalIp(once)).toBe(once);
          expect(parseIp(once)).toEqual(parseIp(text));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  test('every IPv4 a.b.c.d and each of its mapped and compatible spellings give a.b.c.d', () => {
    fc.assert(
      fc.property(ipv4, fc.boolean(), fc.boolean(), fc.boolean(), (octets, upper, pad, expanded) => {
        const plain = octets.join('.');
        const [a, b, c, d] = octets;
        const word = (n: number) => {
          const h = n.toString(16);
          return (pad ? h.padStart(4, '0') : h)[upper ? 'toUpperCase' : 'toLowerCase']();
        };
        const ffff = upper ? 'FFFF' : 'ffff';
        const prefix = expanded ? '0:0:0:0:0:' : '::';
        const hi = word((a! << 8) | b!);
        const lo = word((c! << 8) | d!);
        const spellings = [`${prefix}${ffff}:${plain}`, `${prefix}${ffff}:${hi}:${lo}`];
        // IPv4-compatible: 0.0.0.0 and 0.0.0.1 would be :: and ::1, which are IPv6's own.
        if ((a! | b! | c!) !== 0 || d! > 1) spellings.push(`::${plain}`, `0:0:0:0:0:0:${hi}:${lo}`);
        for (const written of [plain, ...spellings]) expect([written, canonicalIp(written)]).toEqual([written, plain]);
      }),
      { numRuns: 2_000 },
    );
  });

  test('accepts exactly the texts node:net isIP accepts (zone ids aside)', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEFg:.'.split(''));
    const mutated = spelling.chain(({ text }) =>
      fc.tuple(fc.nat({ max: text.length }), fc.nat({ max: 2 }), alphabet).map(([at, drop, char]) => {
        const bare = text.split('%')[0]!;
        return bare.slice(0, at) + char + bare.slice(at + drop);
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          spelling.map((s) => s.text.split('%')[0]!),
          mutated,
          fc.string({ unit: alphabet, maxLength: 40 }),
        ),
        (text) => {
          expect([text, parseIp(text) !== null]).toEqual([text, isIP(text) !== 0]);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  test('IPv6 text is what the WHATWG URL serialiser writes (RFC 5952), for every address not carrying IPv4', () => {
    fc.assert(
      fc.property(spelling, ({ text, value }) => {
        const carriesV4 = value >> 32n === 0xffffn || (value >> 32n === 0n && value > 1n);
        fc.pre(!carriesV4);
        const bare = text.split('%')[0]!;
        expect(canonicalIp(text)).toBe(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('parseIpNetwork (list entries)', () => {
  const stored = (text: string) => {
    const parsed = parseIpNetwork(text);
    return 'network' in parsed ? formatNetwork(parsed.network) : parsed;
  };

  test.each([
    ['198.51.100.7', '198.51.100.7/32'],
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::ffff:1.2.3.4', '1.2.3.4/32'],
    ['::ffff:1.2.3.4/128', '1.2.3.4/32'],
    ['::FFFF:102:304/128', '1.2.3.4/32'],
    ['::ffff:1.2.3.0/120', '1.2.3.0/24'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::1.2.3.4/128', '1.2.3.4/32'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000::1', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['fe80::%eth0/64', 'fe80::/64'],
  ])('%s is stored as %s', (written, canonical) => {
    expect(stored(written)).toBe(canonical);
  });

  test.each([
    ['198.51.100.7/24', /bits set beyond its \/24 prefix: the network is 198\.51\.100\.0\/24/],
    ['::ffff:1.2.3.4/120', /the network is 1\.2\.3\.0\/24/],
    ['::ffff:0:0/95', /at least \/96/],
    ['198.51.100.7/33', /at most \/32/],
    ['2001:db8::/129', /at most \/128/],
    ['10/8', /CIDR notation/],
    ['192.168', /CIDR notation/],
    ['198.51.100.0/24/8', /CIDR notation/],
    ['198.51.100.0/', /CIDR notation/],
    ['198.51.100.0/x', /CIDR notation/],
    ['not-an-ip', /CIDR notation/],
  ])('%s is refused: %s', (written, reason) => {
    expect(stored(written)).toEqual({ refused: expect.stringMatching(reason) });
  });
});

describe('clientBucketOf (the claim rate limit key)', () => {
  const bucket = (text: string) => clientBucketOf(canonicalIp(text)!);

  test('an IPv4 client is its address, however it was spelled', () => {
    expect(bucket('8.8.4.4')).toBe('8.8.4.4');
    expect(bucket('::ffff:808:404')).toBe('8.8.4.4');
  });

  test('an IPv6 client is its /64: two addresses in one /64 share it, another /64 does not', () => {
    expect(bucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(bucket('2001:DB8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(bucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(bucket('::1')).toBe('::/64');
  });
});

describe('IpAddressSchema (order intake)', () => {
  test('any spelling in, the canonical text out', () => {
    expect(IpAddressSchema.parse('::ffff:808:404')).toBe('8.8.4.4');
    expect(IpAddressSchema.parse('2001:DB8::0:1')).toBe('2001:db8::1');
  });

  test.each(['garbage', '8.8.8.8/32', '', 42])('%j is refused with the field message', (value) => {
    const result = IpAddressSchema.safeParse(value);
    expect(result.success).toBe(false);
    if (typeof value === 'string') expect(result.error?.issues[0]?.message).toBe('must be an IPv4 or IPv6 address');
  });
});
