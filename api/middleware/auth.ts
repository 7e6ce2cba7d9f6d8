import type { Client } from '@prisma/client';
import type { RequestHandler } from 'express';
import { sha256Hex } from '../../infra/crypto';
import type { Db } from '../../infra/db';
import type { Actor } from '../../store/audit';
import { findClientByApiKey } from '../../store/clients';
import { type Role, roleFromDb } from '../../domain/roles';
import { problems } from '../problem';

// Every request authenticates; an order system sends many a second with one key. Known keys
// are remembered for a few seconds (keyed by the key's hash, never the key), so a client
// disabled or changed in the database takes up to AUTH_CACHE_MS to be refused everywhere.
const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_MAX = 10_000;

/** Resolves `Authorization: Bearer <key>` to a client, or answers 401. */
export function authenticate(db: Db): RequestHandler {
  const known = new Map<string, { client: Client; until: number }>();
  const lookup = async (apiKey: string): Promise<Client | null> => {
    const hash = sha256Hex(apiKey);
    const hit = known.get(hash);
    if (hit && hit.until > Date.now()) return hit.client;
    const client = await findClientByApiKey(db, apiKey);
    if (known.size >= AUTH_CACHE_MAX) known.clear();
    if (client) known.set(hash, { client, until: Date.now() + AUTH_CACHE_MS });
    else known.delete(hash);
    return client;
  };
  return async (req, _res, next) => {
    const match = /^Bearer\s+(\S{1,256})$/i.exec(req.get('authorization') ?? '');
    const client = match?.[1] ? await lookup(match[1]) : null;
    if (!client) throw problems.unauthenticated();
    req.client = client;
    next();
  };
}

/** Refuses, with 403, a caller whose role is not listed. Use after authenticate. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.client || !roles.includes(roleFromDb(req.client.role))) throw problems.forbidden();
    next();
  };
}

export function callerOf(req: { client?: Client }): Client {
  if (!req.client) throw problems.unauthenticated();
  return req.client;
}

export function actorOf(req: { client?: Client }): Actor {
  const client = callerOf(req);
  return { clientId: client.id, name: `client:${client.name}` };
}
