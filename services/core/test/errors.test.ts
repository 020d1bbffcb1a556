import { BurnrateError, isRetriable, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

describe('errors', () => {
  it('carries code, field and retriable', () => {
    const e = new ValidationError('customer_ref', 'customer_ref is required');
    expect(e).toBeInstanceOf(BurnrateError);
    expect(e.code).toBe('invalid_event');
    expect(e.field).toBe('customer_ref');
    expect(isRetriable(e)).toBe(false);
    expect(isRetriable(new BurnrateError('x', 'y', { retriable: true }))).toBe(true);
  });
});
