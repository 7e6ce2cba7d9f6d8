// Pure rules and primitives, without the stack.
import { loggablePath } from '../../api/middleware/request-context';
import { canTransition, sourcesOf } from '../../domain/order-status';
import { type Keyring, keyringFrom, open, seal } from '../../infra/crypto';
import { signWebhook, verifyWebhook } from '../../infra/webhook-signature';
import { requestHashOf } from '../../store/orders';

describe('order status machine', () => {
  test.each([
    ['received', 'fulfilling', true],
    ['received', 'delivered', false],
    ['fulfilling', 'delivered', true],
    ['fulfilling', 'refunded', true],
    ['delivered', 'refunded', true],
    ['delivered', 'fulfilling', false],
    ['fulfilling', 'partially_delivered', true],
    ['partially_delivered', 'refunded', true],
    ['partially_delivered', 'delivered', false],
    ['failed', 'refunded', false],
    ['refunded', 'delivered', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  test('sourcesOf lists exactly the statuses that may move to the target', () => {
    // A delivered or partially delivered order can still be refunded (compensation).
    expect(sourcesOf('refunded').sort()).toEqual(['delivered', 'fulfilling', 'partially_delivered']);
    // Only an approved risk review sends an order back to received.
    expect(sourcesOf('received')).toEqual(['in_review']);
    expect(sourcesOf('rejected').sort()).toEqual(['in_review', 'received']);
  });
});

describe('AES-256-GCM envelopes', () => {
  const ring = keyringFrom('k1', Buffer.alloc(32, 1).toString('base64'));

  test('round-trip, with a fresh IV each time', () => {
    const a = seal(ring, 'CODE-1234', 'ctx');
    expect(a).toMatch(/^v1\.k1\./);
    expect(a).not.toContain('CODE-1234');
    expect(seal(ring, 'CODE-1234', 'ctx')).not.toBe(a);
    expect(open(ring, a, 'ctx')).toBe('CODE-1234');
  });

  test('a tampered ciphertext or other associated data does not open', () => {
    const sealed = seal(ring, 'CODE-1234', 'product-a');
    expect(() => open(ring, sealed, 'product-b')).toThrow();
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => open(ring, parts.join('.'), 'product-a')).toThrow();
  });

  test('after rotation, old ciphertexts still open by their key id', () => {
    const old = seal(ring, 'OLD-KEY', '');
    const rotated: Keyring = {
      currentKeyId: 'k2',
      keys: new Map([...ring.keys, ['k2', Buffer.alloc(32, 2)]]),
    };
    const fresh = seal(rotated, 'NEW-KEY', '');
    expect(fresh).toMatch(/^v1\.k2\./);
    expect(open(rotated, old, '')).toBe('OLD-KEY');
    expect(() => open(ring, fresh, '')).toThrow(/unknown key id k2/);
  });
});

describe('webhook signatures', () => {
  const body = '{"type":"order.delivered"}';
  const now = 1_800_000_000;

  test('verify accepts its own signature and refuses a changed body, secret or old timestamp', () => {
    const header = signWebhook('whsec_a', body, now);
    expect(verifyWebhook('whsec_a', body, header, now + 10)).toBe(true);
    expect(verifyWebhook('whsec_a', `${body} `, header, now)).toBe(false);
    expect(verifyWebhook('whsec_b', body, header, now)).toBe(false);
    expect(verifyWebhook('whsec_a', body, header, now + 301)).toBe(false);
    expect(verifyWebhook('whsec_a', body, 'garbage', now)).toBe(false);
  });
});

describe('order request hash', () => {
  const request = {
    externalOrderId: 'A-1',
    buyer: { id: 'b', ip: '203.0.113.1' },
    items: [{ sku: 's', quantity: 1 }],
  };

  test('ignores key order, notices any change', () => {
    const reordered = {
      items: [{ quantity: 1, sku: 's' }],
      buyer: { ip: '203.0.113.1', id: 'b' },
      externalOrderId: 'A-1',
    };
    expect(requestHashOf(reordered)).toBe(requestHashOf(request));
    expect(requestHashOf({ ...request, items: [{ sku: 's', quantity: 2 }] })).not.toBe(requestHashOf(request));
  });
});

test('claim tokens are masked in logged paths', () => {
  expect(loggablePath(`/v1/claims/${'a'.repeat(64)}?x=1`)).toBe('/v1/claims/:token');
  expect(loggablePath('/v1/orders/123?externalOrderId=x')).toBe('/v1/orders/123');
});
