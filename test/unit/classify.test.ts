/** How a thrown error is classified for retries (src/retry/classify.ts). */
import { describe, expect, it } from 'vitest';
import { classifyError, PermanentError, TransientError } from '../../src/index.js';

describe('classifyError', () => {
  it('PermanentError is permanent and TransientError transient, whatever the override says', () => {
    expect(classifyError(new PermanentError('x'), () => 'transient')).toBe('permanent');
    expect(classifyError(new TransientError('x'), () => 'permanent')).toBe('transient');
  });
  it('other errors are transient unless the override says permanent', () => {
    expect(classifyError(new Error('x'))).toBe('transient');
    expect(classifyError(new RangeError('x'), (e) => (e instanceof RangeError ? 'permanent' : 'transient'))).toBe('permanent');
  });
  it('a throwing override counts as transient', () => {
    expect(classifyError(new Error('x'), () => { throw new Error('bug'); })).toBe('transient');
  });
});
