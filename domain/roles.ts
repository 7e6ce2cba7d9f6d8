// Roles as the API spells them, and their names in the Prisma client.
import { z } from 'zod';
import type { Role as DbRole } from '@prisma/client';

export const ROLES = ['order-system', 'support', 'risk-analyst', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

const toDb: Record<Role, DbRole> = {
  'order-system': 'order_system',
  support: 'support',
  'risk-analyst': 'risk_analyst',
  admin: 'admin',
};

export function roleToDb(role: Role): DbRole {
  return toDb[role];
}

export function roleFromDb(role: DbRole): Role {
  return ROLES.find((r) => toDb[r] === role) as Role;
}
