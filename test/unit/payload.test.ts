/** Payload rules (src/payload.ts): canonical JSON, the dedup hash, size limits. */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../../src/index.js';
import { canonicalJson, dedupHash, serializePayload } from '../../src/payload.js';

describe('payloads', () => {
  it('canonical JSON ignores key order at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 2 } })).toBe(canonicalJson({ a: { c: 2, d: [1, { y: 2, z: 1 }] }, b: 1 }));
  });
  it('the dedup hash depends on type, input and org, or on the dedup key', () => {
    const h = dedupHash('t', 'acme', { a: 1, b: 2 });
    expect(dedupHash('t', 'acme', { b: 2, a: 1 })).toBe(h);
    expect(dedupHash('t', 'other', { a: 1, b: 2 })).not.toBe(h);
    expect(dedupHash('u', 'acme', { a: 1, b: 2 })).not.toBe(h);
    expect(dedupHash('t', 'acme', { a: 1, b: 3 })).not.toBe(h);
    expect(dedupHash('t', 'acme', { a: 1 }, 'k')).toBe(dedupHash('t', 'acme', { a: 2 }, 'k'));
    expect(dedupHash('t', 'acme', {}, 'k')).not.toBe(dedupHash('t', 'zeta', {}, 'k'));
    expect(h).toMatch(/^[0-9a-f]{64}$/);
  });
  it('serializePayload enforces the limit in UTF-8 bytes and names the field', () => {
    expect(serializePayload('input', { s: 'é'.repeat(10) }, 100)).toBe(JSON.stringify({ s: 'é'.repeat(10) }));
    const err = (() => { try { serializePayload('input', { s: 'é'.repeat(100) }, 100); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).field).toBe('input');
    expect((err as PayloadTooLargeError).code).toBe('PAYLOAD_TOO_LARGE');
  });
  it('serializePayload rejects values JSON cannot hold', () => {
    expect(() => serializePayload('output', 10n, 100)).toThrow(ValidationError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializePayload('output', cyclic, 100)).toThrow(/cycle/);
  });
});
