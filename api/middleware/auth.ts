import type { Client } from '@prisma/client';
import type { RequestHandler } from 'express';
import type { Db } from '../../infra/db';
import type { Actor } from '../../store/audit';
import { findClientByApiKey } from '../../store/clients';
import { type Role, roleFromDb } from '../../domain/roles';
import { problems } from '../problem';

/** Resolves `Authorization: Bearer <key>` to a client, or answers 401. */
export function authenticate(db: Db): RequestHandler {
  return async (req, _res, next) => {
    const match = /^Bearer\s+(\S{1,256})$/i.exec(req.get('authorization') ?? '');
    const client = match?.[1] ? await findClientByApiKey(db, match[1]) : null;
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
