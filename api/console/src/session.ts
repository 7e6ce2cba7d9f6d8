// The operator's API key lives in this tab's session storage only: closing the tab signs out,
// and no other tab or later visit finds it. Every API call sends it as a bearer token.
const KEY = 'rp.console.key';

export type Role = 'order-system' | 'support' | 'risk-analyst' | 'admin';

export interface Me {
  id: string;
  name: string;
  role: Role;
}

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (apiKey: string) => sessionStorage.setItem(KEY, apiKey),
  signOut: () => sessionStorage.removeItem(KEY),
};
