import { describe, expect, it } from '@jest/globals';
import { errorMessage } from './error-message.js';

describe('errorMessage', () => {
  it("is an Error's message", () => {
    expect(errorMessage(new Error('connect ECONNREFUSED'))).toBe('connect ECONNREFUSED');
    expect(errorMessage(new TypeError('x is not a function'))).toBe('x is not a function');
  });

  it('reads the message of what is not an Error but has one (driver errors, other realms)', () => {
    expect(errorMessage({ message: 'relation "calls" does not exist', code: '42P01' })).toBe('relation "calls" does not exist');
    const fromAnotherRealm = Object.assign(Object.create(null) as object, { message: 'from a worker' });
    expect(errorMessage(fromAnotherRealm)).toBe('from a worker');
  });

  it('is the text of anything else thrown', () => {
    expect(errorMessage('plain string')).toBe('plain string');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(null)).toBe('null');
    expect(errorMessage({ message: 7 })).toBe('[object Object]'); // a message that is not text is not used
  });

  it('never throws, whatever it is given', () => {
    expect(errorMessage(Object.create(null))).toBe('[object Object]');
    const hostile = {
      get message(): string {
        throw new Error('getter');
      },
      toString(): string {
        throw new Error('toString');
      },
    };
    expect(errorMessage(hostile)).toBe('[object Object]');
    expect(errorMessage(Symbol('s'))).toBe('Symbol(s)');
  });

  it('puts the name first when asked, and only before a real message', () => {
    expect(errorMessage(new RangeError('too far'), { withName: true })).toBe('RangeError: too far');
    expect(errorMessage({ name: 'PostgresError', message: 'deadlock' }, { withName: true })).toBe('PostgresError: deadlock');
    expect(errorMessage('thrown text', { withName: true })).toBe('thrown text');
  });

  it('cuts the text to maxLength', () => {
    expect(errorMessage(new Error('x'.repeat(500)), { maxLength: 300 })).toHaveLength(300);
    expect(errorMessage(new Error('short'), { maxLength: 300 })).toBe('short');
    expect(errorMessage(new Error('abcdef'), { withName: true, maxLength: 9 })).toBe('Error: ab');
  });
});
