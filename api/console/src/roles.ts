// Which views a role sees. The API refuses the rest anyway (every route checks roles); the
// console only keeps an operator from opening what would answer 403.
import type { Role } from './session';

export type View = 'reviews' | 'support' | 'operations' | 'reports';

export const VIEWS_OF: Record<Role, View[]> = {
  'risk-analyst': ['reviews'],
  support: ['support'],
  admin: ['reviews', 'support', 'operations', 'reports'],
  'order-system': [],
};

export const mayOpen = (role: Role, view: View) => VIEWS_OF[role].includes(view);
