// The address of the client behind a request, in its one canonical form (domain/ip-address.ts),
// resolved once at the edge for the routes that judge or limit by address (the claim link).
//
// Whom to believe is Express's `trust proxy` rule (api/app.ts: loopback only): req.ip is the
// socket's peer, or, when the peer is a trusted proxy, the nearest X-Forwarded-For hop that
// is not one. A header from an untrusted peer is never read, whatever it holds. A dual-stack
// socket (an API bound to `::`) reports an IPv4 peer as ::ffff:127.0.0.1; Express's proxy
// check takes that for loopback, and here it becomes 127.0.0.1 like everything else.
//
// When the hop a trusted proxy reports is not an address, the request is refused (400
// `invalid_client_address`), not attributed to the proxy's own address: the proxy is trusted
// to say who the client is, and it said nothing usable. Falling back to the socket would
// file the claim, its risk facts and its rate-limit count under the proxy — every client
// behind a misbehaving proxy in one bucket, judged as a loopback buyer — and skipping the bad
// hop to the one before it would believe a value the client wrote itself. A zone id is not
// "not an address": it is dropped (see domain/ip-address.ts).
import type { Request, RequestHandler } from 'express';
import { type CanonicalIp, canonicalIp } from '../../domain/ip-address';
import { Problem } from '../problem';

export function clientAddress(): RequestHandler {
  return (req, _res, next) => {
    const address = canonicalIp(req.ip ?? '');
    if (address === null) {
      throw new Problem(
        400,
        'invalid_client_address',
        'The client address (X-Forwarded-For from the proxy in front of this API) is not an IP address',
      );
    }
    req.clientAddress = address;
    next();
  };
}

/** The canonical client address; use after clientAddress(). */
export function clientAddressOf(req: Request): CanonicalIp {
  if (!req.clientAddress) throw new Error('clientAddress() did not run before this route');
  return req.clientAddress;
}
