import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DtmfCollector } from './dtmf-collector.js';

describe('DtmfCollector', () => {
  let digits: string[][];
  let actions: Array<[string, string]>;
  let collector: DtmfCollector;

  beforeEach(() => {
    jest.useFakeTimers();
    digits = [];
    actions = [];
    collector = new DtmfCollector({
      interDigitMs: 1000,
      keyMap: new Map([['0', 'transfer_to_human']]),
      onDigits: (keys) => digits.push(keys),
      onAction: (key, tool) => actions.push([key, tool]),
    });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('hands over the digits in order once the caller pauses', () => {
    collector.press('1');
    jest.advanceTimersByTime(900);
    collector.press('2');
    jest.advanceTimersByTime(900);
    collector.press('3');
    expect(digits).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(digits).toEqual([['1', '2', '3']]);
  });

  it('hands over at once on #, the # included', () => {
    collector.press('4');
    collector.press('#');
    expect(digits).toEqual([['4', '#']]);
    jest.advanceTimersByTime(5000);
    expect(digits).toHaveLength(1);
  });

  it('runs a mapped key at once, after handing over the digits pressed before it', () => {
    collector.press('5');
    collector.press('0');
    expect(digits).toEqual([['5']]);
    expect(actions).toEqual([['0', 'transfer_to_human']]);
    expect(collector.pending).toEqual([]);
  });

  it('hands over a very long run without waiting', () => {
    for (let i = 0; i < 32; i++) collector.press('9');
    expect(digits).toHaveLength(1);
    expect(digits[0]).toHaveLength(32);
  });

  it('drops pending digits when disposed', () => {
    collector.press('7');
    collector.dispose();
    jest.advanceTimersByTime(5000);
    expect(digits).toEqual([]);
  });

  it('normalises keys and rejects anything that is not one', () => {
    expect(DtmfCollector.keyOf('a')).toBe('A');
    expect(DtmfCollector.keyOf(' 5 ')).toBe('5');
    expect(DtmfCollector.keyOf('*')).toBe('*');
    for (const bad of ['E', '10', '', 5, null, undefined]) expect(DtmfCollector.keyOf(bad)).toBeUndefined();
  });
});
