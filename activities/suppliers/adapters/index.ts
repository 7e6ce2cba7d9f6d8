// The adapter for a supplier row: its protocol, its opened credentials, its timeout.
import type { Supplier } from '@prisma/client';
import { ReferenceCredentials, ReloadlyCredentials } from '../../../domain/suppliers';
import type { OutboundAllowList } from '../../../infra/outbound-url';
import { referenceAdapter } from './reference';
import { reloadlyAdapter } from './reloadly';
import type { SupplierAdapter } from './types';

export type { ListedSale, PlaceRequest, Quote, SalesPage, SalesQuery, SaleState, SupplierAdapter } from './types';
export { SupplierUnavailable } from './types';

export function adapterFor(
  supplier: Pick<Supplier, 'protocol' | 'baseUrl' | 'timeoutMs'>,
  credentials: unknown,
  allow: OutboundAllowList,
  currency: string,
): SupplierAdapter {
  const http = { allow, timeoutMs: supplier.timeoutMs };
  switch (supplier.protocol) {
    case 'reference':
      return referenceAdapter(supplier.baseUrl, ReferenceCredentials.parse(credentials), http);
    case 'reloadly':
      return reloadlyAdapter(supplier.baseUrl, ReloadlyCredentials.parse(credentials), http, currency);
  }
}
