import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BREAKABLE_WHITESPACE,
  codePointLength,
  DISCORD_CONTENT_LIMIT,
  escapeMarkdown,
  packPieces,
  SAFE_CONTENT_LIMIT,
  splitText,
} from './discord-text.js';

const WS_GLOBAL = new RegExp(BREAKABLE_WHITESPACE.source, 'g');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const words = (text: string) => text.split(BREAKABLE_WHITESPACE).filter(Boolean);
const graphemes = (text: string) => Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment);

// ---- arbitraries ----------------------------------------------------------------------------------------------
const astral = fc.constantFrom('😀', '👨‍👩‍👧‍👦', '🇵🇹', '𝔘', '𠀀', 'é', 'ñ', '🏳️‍🌈', '👍🏽', '\\*', 'a');
const whitespace = fc.constantFrom(' ', '  ', '\n', '\n\n', '\t', ' \n ', '\u3000', '\u2003', '\r\n');
const shortWord = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), fc.string({ unit: astral, minLength: 1, maxLength: 4 }));
const longWord = fc.oneof(fc.string({ unit: 'grapheme', minLength: 40, maxLength: 150 }), fc.string({ unit: astral, minLength: 40, maxLength: 150 }));
/** Words and whitespace runs in any mix: whitespace-heavy, astral, sometimes very long words. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.oneof(shortWord, whitespace, whitespace), { maxLength: 80 }).map((parts) => parts.join('')),
  fc.array(fc.oneof({ arbitrary: shortWord, weight: 4 }, { arbitrary: longWord, weight: 1 }, { arbitrary: whitespace, weight: 4 }), { maxLength: 40 }).map((parts) =>
    parts.join(''),
  ),
);
const limit = fc.integer({ min: 1, max: 60 });
/** Any UTF-16, lone surrogates and control characters included. */
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 });
const markdownish = fc
  .array(
    fc.oneof(
      fc.constantFrom('**', '__', '*', '_', '~~', '`', '```', '||', '>', '>>> ', '# ', '## ', '-# ', '- ', '+ ', '1. ', '42.', '\\', '\\\\'),
      fc.constantFrom('[x](http://evil)', '[x]', '(y)', '](', '<@123>', '<@!123>', '<@&123>', '<#123>', '<:e:1>', '<t:1:R>', '<https://a.b>'),
      fc.constantFrom('@everyone', '@here', '@Everyone', 'text', ' ', '  ', '\t', '\n', '\r\n', '\r', '\u0007', '\u001b', '\u202e', '\u2066', '\u0085', '😀', 'é'),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

// ---- codePointLength ------------------------------------------------------------------------------------------
describe('codePointLength', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('👨‍👩‍👧‍👦')).toBe(7);
    expect(codePointLength('\uD800x')).toBe(2);
    expect(codePointLength('x\uDC00')).toBe(2);
    expect([DISCORD_CONTENT_LIMIT, SAFE_CONTENT_LIMIT]).toEqual([2000, 1900]);
  });

  it('agrees with string iteration on any UTF-16', () => {
    fc.assert(fc.property(anyUtf16, (s) => codePointLength(s) === [...s].length));
  });
});

// ---- splitText ------------------------------------------------------------------------------------------------
describe('splitText', () => {
  it('keeps short text whole and breaks at the last whitespace that fits', () => {
    expect(splitText('hello world')).toEqual(['hello world']);
    expect(splitText('aaa bbb ccc ddd', 8)).toEqual(['aaa bbb', 'ccc ddd']);
    expect(splitText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(splitText('one\ntwo three', 9)).toEqual(['one\ntwo', 'three']);
    expect(splitText('a     b', 3)).toEqual(['a', 'b']); // the whole run is dropped at the break
    expect(splitText('  padded  ', 10)).toEqual(['padded']);
    expect(splitText('')).toEqual([]);
    expect(splitText(' \n\t ')).toEqual([]);
  });

  it('hard-cuts only a word longer than the limit, and its tail shares a chunk with what follows', () => {
    expect(splitText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(splitText('x abcdefghij y', 4)).toEqual(['x', 'abcd', 'efgh', 'ij y']);
  });

  it('never cuts a surrogate pair, an emoji sequence or a letter from its combining mark', () => {
    expect(splitText('😀😀😀', 2)).toEqual(['😀😀', '😀']);
    expect(splitText('e\u0301e\u0301e\u0301', 3)).toEqual(['e\u0301', 'e\u0301', 'e\u0301']);
    const family = '👨‍👩‍👧‍👦'; // 7 code points
    expect(splitText(family + family, 8)).toEqual([family, family]);
    // A cluster longer than the limit is cut between code points, never inside one.
    expect(splitText(family, 3)).toEqual(['👨‍👩', '‍👧‍', '👦']);
  });

  it('never separates an escaping backslash from what it escapes', () => {
    expect(splitText('ab\\*cd', 3)).toEqual(['ab', '\\*c', 'd']);
    expect(splitText(escapeMarkdown('**bold**'), 3)).toEqual(['\\*', '\\*b', 'old', '\\*', '\\*']);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => splitText('x', 0)).toThrow(RangeError);
    expect(() => splitText('x', 1.5)).toThrow(RangeError);
    expect(() => splitText('x', Number.NaN)).toThrow(RangeError);
  });

  it('property: chunks are non-empty, within the limit, well-formed and trimmed', () => {
    fc.assert(
      fc.property(text, limit, (input, max) => {
        for (const chunk of splitText(input, max)) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(codePointLength(chunk)).toBeLessThanOrEqual(max);
          expect(LONE_SURROGATE.test(chunk)).toBe(false);
          expect(BREAKABLE_WHITESPACE.test(chunk[0])).toBe(false);
          expect(BREAKABLE_WHITESPACE.test(chunk[chunk.length - 1])).toBe(false);
        }
      }),
    );
  });

  it('property: only breakable whitespace is ever dropped, and the rest stays in order', () => {
    fc.assert(
      fc.property(text, limit, (input, max) => {
        expect(splitText(input, max).join('').replace(WS_GLOBAL, '')).toBe(input.replace(WS_GLOBAL, ''));
      }),
    );
  });

  it('property: without over-long words, words are preserved whole and in order', () => {
    fc.assert(
      fc.property(text, limit, (input, max) => {
        fc.pre(words(input).every((w) => codePointLength(w) <= max));
        expect(words(splitText(input, max).join(' '))).toEqual(words(input));
        expect(splitText(input, max).flatMap(words)).toEqual(words(input));
      }),
    );
  });

  it('property: breaks are as late as possible (the next word never fits in the previous chunk)', () => {
    fc.assert(
      fc.property(fc.array(shortWord.filter((w) => words(w).length === 1 && w === w.trim()), { minLength: 1, maxLength: 60 }), limit, (list, max) => {
        fc.pre(list.every((w) => codePointLength(w) <= max));
        const chunks = splitText(list.join(' '), max);
        for (let i = 0; i + 1 < chunks.length; i++) {
          expect(codePointLength(chunks[i]) + 1 + codePointLength(words(chunks[i + 1])[0])).toBeGreaterThan(max);
        }
      }),
    );
  });

  it('property: a hard cut falls between grapheme clusters when each cluster fits', () => {
    fc.assert(
      fc.property(fc.string({ unit: astral, minLength: 1, maxLength: 120 }), fc.integer({ min: 7, max: 30 }), (word, max) => {
        const input = word.replace(WS_GLOBAL, '');
        fc.pre(input.length > 0);
        expect(splitText(input, max).flatMap(graphemes)).toEqual(graphemes(input));
      }),
    );
  });

  it('property: escaped text is never cut after an escaping backslash', () => {
    fc.assert(
      fc.property(markdownish, fc.integer({ min: 2, max: 40 }), (input, max) => {
        for (const chunk of splitText(escapeMarkdown(input), max)) {
          const trailingBackslashes = /\\*$/.exec(chunk)![0].length;
          expect(trailingBackslashes % 2).toBe(0);
        }
      }),
    );
  });

  // Its speed is measured by the notifications benchmark (npm run bench), not timed here.
  it('splits a long input with unbreakable runs into messages that all fit, losing nothing', () => {
    const big = Array.from({ length: 20000 }, (_, i) => (i % 97 === 0 ? 'x'.repeat(3000) : 'word😀')).join(' ');
    const chunks = splitText(big);
    expect(chunks.every((c) => codePointLength(c) <= SAFE_CONTENT_LIMIT)).toBe(true);
    expect(chunks.join('').replace(/\s/g, '')).toBe(big.replace(/\s/g, ''));
  });
});

// ---- packPieces -----------------------------------------------------------------------------------------------
describe('packPieces', () => {
  it('joins pieces with newlines until the next one does not fit', () => {
    expect(packPieces(['Caller: hi', 'Agent: hello', 'Caller: bye'], 24)).toEqual([
      { text: 'Caller: hi\nAgent: hello', pieces: [0, 1] },
      { text: 'Caller: bye', pieces: [2] },
    ]);
    expect(packPieces([])).toEqual([]);
  });

  it('splits an over-long piece over consecutive messages; its tail may carry the next pieces', () => {
    expect(packPieces(['short', 'aaaa bbbb cccc', 'z'], 9)).toEqual([
      { text: 'short', pieces: [0] },
      { text: 'aaaa bbbb', pieces: [1] },
      { text: 'cccc\nz', pieces: [1, 2] },
    ]);
  });

  it('lets blank pieces ride along without adding text', () => {
    expect(packPieces(['', 'a', '  ', 'b', '\n'], 10)).toEqual([{ text: 'a\nb', pieces: [0, 1, 2, 3, 4] }]);
    expect(packPieces(['', ' '])).toEqual([]);
  });

  const pieceList = fc.array(fc.oneof({ arbitrary: text, weight: 3 }, { arbitrary: fc.constantFrom('', ' ', '\n'), weight: 1 }), { maxLength: 30 });

  it('property: every message is non-empty and within the limit, and carries its pieces in order', () => {
    fc.assert(
      fc.property(pieceList, limit, (pieces, max) => {
        const messages = packPieces(pieces, max);
        for (const message of messages) {
          expect(message.text.trim().length).toBeGreaterThan(0);
          expect(codePointLength(message.text)).toBeLessThanOrEqual(max);
        }
        const order = messages.flatMap((m) => m.pieces);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        const anyText = pieces.some((p) => p.trim() !== '');
        // Every piece appears exactly once, or in a run of consecutive messages when it was split.
        expect([...new Set(order)]).toEqual(anyText ? pieces.map((_, i) => i) : []);
        for (const index of new Set(order)) {
          const carriers = messages.flatMap((m, i) => (m.pieces.includes(index) ? [i] : []));
          expect(carriers).toEqual(carriers.map((_, k) => carriers[0] + k));
          if (carriers.length > 1) expect(codePointLength(pieces[index])).toBeGreaterThan(max);
          expect(messages[carriers[0]].pieces.filter((i) => i === index)).toHaveLength(1);
        }
      }),
    );
  });

  it('property: the text is the pieces in order, pieces that fit unchanged', () => {
    fc.assert(
      fc.property(pieceList, limit, (pieces, max) => {
        const messages = packPieces(pieces, max);
        const sent = messages.map((m) => m.text).join('\n');
        const given = pieces.filter((p) => p.trim() !== '').join('\n');
        expect(sent.replace(WS_GLOBAL, '')).toBe(given.replace(WS_GLOBAL, ''));
        if (pieces.every((p) => codePointLength(p) <= max)) {
          for (const message of messages) {
            expect(message.text).toBe(message.pieces.filter((i) => pieces[i].trim() !== '').map((i) => pieces[i]).join('\n'));
          }
        }
      }),
    );
  });

  it('property: a whole piece that starts a message did not fit in the previous one', () => {
    fc.assert(
      fc.property(fc.array(shortWord, { minLength: 1, maxLength: 40 }), limit, (pieces, max) => {
        fc.pre(pieces.every((p) => p.trim() !== '' && codePointLength(p) <= max));
        const messages = packPieces(pieces, max);
        for (let i = 0; i + 1 < messages.length; i++) {
          const first = pieces[messages[i + 1].pieces[0]];
          expect(codePointLength(messages[i].text) + 1 + codePointLength(first)).toBeGreaterThan(max);
        }
      }),
    );
  });
});

// ---- escapeMarkdown -------------------------------------------------------------------------------------------
const FORMATTING = new Set([...'\\*_~`|<>[]()']);

/** Reads the output like Discord's parser: a backslash escapes the next character; returns what renders. */
function render(escaped: string): { text: string; unescapedMarkup: string[] } {
  let text = '';
  const unescapedMarkup: string[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i];
    if (c === '\\' && i + 1 < escaped.length && /[^0-9A-Za-z\s]/.test(escaped[i + 1])) {
      text += escaped[++i];
    } else {
      if (FORMATTING.has(c)) unescapedMarkup.push(c);
      text += c;
    }
  }
  return { text: text.replace(/@\u200b(everyone|here)/gi, '@$1'), unescapedMarkup };
}

/** What escapeMarkdown keeps of the input: line breaks normalised, control and bidi characters gone, well-formed. */
function sanitised(input: string): string {
  return input
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

describe('escapeMarkdown', () => {
  it('escapes formatting so it renders literally', () => {
    expect(escapeMarkdown('**bold** _it_ ~~x~~ `c` ||s||')).toBe('\\*\\*bold\\*\\* \\_it\\_ \\~\\~x\\~\\~ \\`c\\` \\|\\|s\\|\\|');
    expect(escapeMarkdown('a\\b')).toBe('a\\\\b');
    expect(escapeMarkdown('> quote\n# Title\n  - item\n-# small\n12. point\n+ plus')).toBe(
      '\\> quote\n\\# Title\n  \\- item\n\\-# small\n12\\. point\n\\+ plus',
    );
    expect(escapeMarkdown('mid-line # and 1. stay')).toBe('mid-line # and 1. stay');
  });

  it('breaks masked links, autolinks and raw mentions', () => {
    const link = escapeMarkdown('[x](http://evil)');
    expect(link).toBe('\\[x\\]\\(http://evil\\)');
    expect(link).not.toContain('](');
    expect(escapeMarkdown('<https://a.b>')).toBe('\\<https://a.b\\>');
    expect(escapeMarkdown('<@123> <@&456> <#789>')).toBe('\\<@123\\> \\<@&456\\> \\<#789\\>');
  });

  it('defuses @everyone and @here', () => {
    expect(escapeMarkdown('hey @everyone and @here')).toBe('hey @\u200beveryone and @\u200bhere');
    expect(escapeMarkdown('@Everyone')).toBe('@\u200bEveryone');
  });

  it('strips control characters except newline and tab', () => {
    expect(escapeMarkdown('a\u0000b\u0007c\u001bd\u007fe\tf\ng\r\nh\ri\u202ej')).toBe('abcde\tf\ng\nh\nij');
    expect(escapeMarkdown('x\uD800y')).toBe('x\uFFFDy');
    expect(escapeMarkdown('plain words 😀')).toBe('plain words 😀');
  });

  it('property: never throws, and its output is well-formed without control characters', () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16, markdownish, fc.string({ unit: 'binary' })), (input) => {
        const out = escapeMarkdown(input);
        expect(LONE_SURROGATE.test(out)).toBe(false);
        expect(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/.test(out)).toBe(false);
      }),
    );
  });

  it('property: no markup, masked link, line marker or mass mention survives, and it renders as the input', () => {
    fc.assert(
      fc.property(fc.oneof(markdownish, fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), anyUtf16), (input) => {
        const out = escapeMarkdown(input);
        const { text: rendered, unescapedMarkup } = render(out);
        expect(unescapedMarkup).toEqual([]);
        expect(out).not.toContain('](');
        expect(/@(everyone|here)/i.test(out)).toBe(false);
        for (const line of out.split('\n')) expect(/^[ \t]*([#+-]|\d+\.)/.test(line)).toBe(false);
        if (!input.includes('\u200b')) expect(rendered).toBe(sanitised(input));
      }),
    );
  });
});
