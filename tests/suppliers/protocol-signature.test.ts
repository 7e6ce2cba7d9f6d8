// The reference protocol's signature header, as docs/supplier-protocol.md states it: a v1 MAC
// is exactly 64 hex digits (either case), `t` is one decimal number, several v1 values may
// be sent while a secret rotates and one right value is enough. (Before: only the last v1
// was checked, and Buffer's hex parser let a MAC with trailing garbage through.)
import { hmacHex } from '../../infra/crypto';
import { verifyRequest } from '../../infra/request-signature';

const SECRET = 'sup_test_secret_0123456789';
const OLD_SECRET = 'sup_old_secret_9876543210';
const T = 1_764_489_600;
const REQUEST = { method: 'POST', path: '/v1/supplier-callbacks/acme?x=%41', body: '{"reference":"r"}' };
const mac = (secret: string, t: number | string = T) =>
  hmacHex(secret, `${t}.${REQUEST.method}.${REQUEST.path}.${REQUEST.body}`);
const verify = (header: string, now = T) => verifyRequest(SECRET, REQUEST, header, now);

test('a rotating signer may send several v1 values: one right value is enough, in any position', () => {
  expect(verify(`t=${T},v1=${mac(SECRET)},v1=${mac(OLD_SECRET)}`)).toBe(true);
  expect(verify(`t=${T},v1=${mac(OLD_SECRET)},v1=${mac(SECRET)}`)).toBe(true);
  expect(verify(`t=${T},v1=${mac(OLD_SECRET)},v0=${mac(SECRET)}`)).toBe(false);
});

test('hex in either case, spaces after commas; nothing else that merely parses', () => {
  expect(verify(`t=${T},v1=${mac(SECRET).toUpperCase()}`)).toBe(true);
  expect(verify(`t=${T}, v1=${mac(SECRET)}`)).toBe(true);
  for (const header of [
    `t=${T},v1=${mac(SECRET)}00`,
    `t=${T},v1=${mac(SECRET)}zz`,
    `t=${T},v1=${mac(SECRET).slice(0, 63)}`,
    `t=0${T},v1=${mac(SECRET, `0${T}`)}`,
    `t=${T}.0,v1=${mac(SECRET, `${T}.0`)}`,
    `t=${T},t=${T},v1=${mac(SECRET)}`,
    `v1=${mac(SECRET)}`,
    `t=${T}`,
    '',
  ]) {
    expect({ header, ok: verify(header) }).toEqual({ header, ok: false });
  }
});
