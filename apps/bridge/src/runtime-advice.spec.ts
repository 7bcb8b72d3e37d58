import { describe, expect, it } from '@jest/globals';
import { singleCpuGcAdvice } from './runtime-advice.js';

describe('singleCpuGcAdvice', () => {
  it('advises --single-threaded-gc when the process may use one CPU only', () => {
    expect(singleCpuGcAdvice(1, [])).toMatch(/--single-threaded-gc/);
    expect(singleCpuGcAdvice(1, ['--enable-source-maps'])).toMatch(/1 CPU/);
  });

  it('says nothing once the flag (or --single-threaded, which implies it) is given', () => {
    expect(singleCpuGcAdvice(1, ['--single-threaded-gc'])).toBeUndefined();
    expect(singleCpuGcAdvice(1, ['--single-threaded'])).toBeUndefined();
  });

  it('says nothing with more than one CPU, where the helper threads run beside the event loop', () => {
    expect(singleCpuGcAdvice(2, [])).toBeUndefined();
    expect(singleCpuGcAdvice(64, [])).toBeUndefined();
  });
});
