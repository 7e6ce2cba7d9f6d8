-- One address, one spelling (issue 29, domain/ip-address.ts). PostgreSQL's inet takes
-- ::ffff:8.8.4.4 for an IPv6 address: a deny-listed 8.8.4.4/32 did not contain it, the two
-- spellings counted as two buyers' addresses, and every IPv4-mapped address fell into one
-- "network" (buyer_network ::/48). Orders and list entries written before the API kept
-- addresses canonical are rewritten here, and from now on the database refuses any other form.
--
-- Canonical: an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d, not :: or ::1)
-- address is the IPv4 address it carries, anything else is what host() writes (RFC 5952 for
-- IPv6). A session-local function, gone when the migration's session ends: it is not part of
-- the schema.
CREATE FUNCTION pg_temp.canonical_inet(address inet) RETURNS inet LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN address <<= '::ffff:0:0/96' THEN '0.0.0.0'::inet + (host(address)::inet - '::ffff:0:0'::inet)
    WHEN address <<= '::/96' AND host(address)::inet > '::1'::inet THEN '0.0.0.0'::inet + (host(address)::inet - '::'::inet)
    ELSE address
  END
$$;

-- buyer_network is generated from buyer_ip, so it follows.
UPDATE orders SET buyer_ip = host(pg_temp.canonical_inet(buyer_ip::inet))
 WHERE buyer_ip <> host(pg_temp.canonical_inet(buyer_ip::inet));

ALTER TABLE orders ADD CONSTRAINT orders_buyer_ip_canonical CHECK (
  buyer_ip = host(buyer_ip::inet)
  AND NOT buyer_ip::inet <<= '::ffff:0:0/96'
  AND NOT (buyer_ip::inet <<= '::/96' AND buyer_ip::inet > '::1'::inet)
);

-- An IP entry written as an IPv6 network of IPv4 addresses (::ffff:198.51.100.0/120) is the
-- IPv4 network (198.51.100.0/24): the same prefix less the 96 bits of the IPv6 part.
CREATE TEMPORARY TABLE canonical_entries AS
  SELECT id, list, value AS written,
         CASE WHEN family(value::cidr) = 6 AND masklen(value::cidr) >= 96
                   AND family(pg_temp.canonical_inet(value::cidr)) = 4
              THEN set_masklen(pg_temp.canonical_inet(value::cidr), masklen(value::cidr) - 96)::cidr::text
              ELSE value::cidr::text
         END AS canonical,
         created_at
    FROM risk_list_entries WHERE kind = 'ip';

-- Two entries one canonical value would repeat on one list: the one already canonical stays,
-- else the oldest (the list's unique key is list, kind and value).
DELETE FROM risk_list_entries e USING (
  SELECT id, row_number() OVER (PARTITION BY list, canonical ORDER BY written = canonical DESC, created_at, id) AS n
    FROM canonical_entries
) r WHERE e.id = r.id AND r.n > 1;

UPDATE risk_list_entries e SET value = c.canonical
  FROM canonical_entries c WHERE e.id = c.id AND c.written <> c.canonical;

DROP TABLE canonical_entries;

ALTER TABLE risk_list_entries ADD CONSTRAINT risk_list_entries_ip_canonical CHECK (
  kind <> 'ip' OR (
    value = value::cidr::text
    AND NOT host(value::cidr)::inet <<= '::ffff:0:0/96'
    AND NOT (host(value::cidr)::inet <<= '::/96' AND host(value::cidr)::inet > '::1'::inet)
  )
);
