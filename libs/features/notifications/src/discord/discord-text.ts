/**
 * Text helpers for Discord messages: length in Discord's unit, neutralising markdown and mentions in text that
 * callers and the agent control, and cutting long text into messages. Pure functions, no Nest.
 */

/** Discord counts `content` in Unicode code points; 2000 max. We keep a margin. */
export const DISCORD_CONTENT_LIMIT = 2000;
export const SAFE_CONTENT_LIMIT = 1900;

/** Length of `text` in Unicode code points (a surrogate pair counts 1, a lone surrogate 1). */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

/** C0/C1 control characters except \t and \n (\r is turned into \n first). */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Bidirectional embedding/override/isolate controls: they reorder what is displayed. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Characters that can format anywhere in a line (`<` covers mentions, channels, emoji, timestamps, autolinks). */
const INLINE_MARKUP = /[\\*_~`|<>[\]()]/g;
/** Block markers that only format at the start of a line: headings, subtext (`-#`), lists, numbered lists. */
const LINE_START_MARKER = /^([ \t]*)([#+-]|\d+\.)/gm;
const MASS_MENTION = /@(everyone|here)/gi;

/**
 * Neutralises Discord markdown in caller/agent-controlled text so it cannot impersonate formatting.
 *
 * - `\r\n`, `\r`, U+2028 and U+2029 become `\n`; other control characters except `\t` are removed, as are the
 *   bidirectional override/isolate controls; a lone surrogate becomes U+FFFD (Discord rejects ill-formed text).
 * - Every `\ * _ ~ \` | < > [ ] ( )` is backslash-escaped, so no emphasis, spoiler, code, quote, masked link
 *   (`[text](url)` never keeps an unescaped `](`), autolink `<http…>` or raw mention `<@123>`, `<@&123>`, `<#123>`
 *   survives. At the start of a line (after spaces/tabs) a `#`, `-` or `+` is escaped and `12.` becomes `12\.`.
 * - `@everyone` / `@here` become `@\u200beveryone` / `@\u200bhere` (defence in depth: the sink also sends
 *   `allowed_mentions: { parse: [] }`).
 *
 * Discord treats a backslash before any ASCII punctuation as an escape, so the output renders as the original
 * characters — except inside a bare URL (`https://…`), where Discord shows the backslashes. Not idempotent: escape
 * once, right before sending. Never throws.
 */
export function escapeMarkdown(text: string): string {
  const input = typeof text === 'string' ? text : String(text ?? '');
  return input
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(CONTROL, '')
    .replace(BIDI_CONTROL, '')
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(INLINE_MARKUP, '\\$&')
    .replace(LINE_START_MARKER, (_match, indent: string, marker: string) =>
      marker.endsWith('.') ? `${indent}${marker.slice(0, -1)}\\.` : `${indent}\\${marker}`,
    )
    .replace(MASS_MENTION, '@\u200b$1');
}

/**
 * Whitespace a message may be broken at: JavaScript's `\s` minus the no-break spaces
 * (U+00A0, U+2007, U+202F, U+FEFF), which keep their words together.
 */
export const BREAKABLE_WHITESPACE = /[^\S\u00A0\u2007\u202F\uFEFF]+/;
const SPLIT_ON_WHITESPACE = new RegExp(`(${BREAKABLE_WHITESPACE.source})`);

function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

/**
 * Splits text into chunks of at most `limit` code points (default {@link SAFE_CONTENT_LIMIT}).
 *
 * Words are packed greedily, so each break falls at the last breakable whitespace that fits; the whole whitespace
 * run at a break is dropped, and so is whitespace at the start and end of the text. Whitespace inside a chunk is
 * kept as it was (newlines included). Only a single word longer than the limit is cut, between grapheme clusters
 * (so never inside a surrogate pair, an emoji sequence or a letter with its combining marks; a single cluster
 * longer than the limit is cut between code points) and never between a backslash and the character it escapes
 * (see {@link escapeMarkdown}); the word's last piece may share a chunk with the words after it.
 *
 * Guarantees: every chunk is non-empty, at most `limit` code points, and neither starts nor ends with breakable
 * whitespace; a well-formed input gives well-formed chunks; removing the breakable whitespace from the input and
 * from the concatenated chunks gives the same string. Empty or whitespace-only text gives `[]`.
 * Throws RangeError for a limit that is not a positive integer.
 */
export function splitText(text: string, limit: number = SAFE_CONTENT_LIMIT): string[] {
  assertLimit(limit);
  const chunks: string[] = [];
  let current = '';
  let currentLength = 0;
  // ['word', ' ', 'word', '\n\n', 'word'] — only the first and last entries can be empty.
  const parts = text.split(SPLIT_ON_WHITESPACE);
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i];
    if (!word) continue;
    const wordLength = codePointLength(word);
    if (current) {
      const separator = parts[i - 1];
      const separatorLength = codePointLength(separator);
      if (currentLength + separatorLength + wordLength <= limit) {
        current += separator + word;
        currentLength += separatorLength + wordLength;
        continue;
      }
      chunks.push(current);
    }
    if (wordLength <= limit) {
      current = word;
      currentLength = wordLength;
      continue;
    }
    const pieces = cutWord(word, limit);
    current = pieces.pop()!;
    currentLength = codePointLength(current);
    chunks.push(...pieces);
  }
  if (current) chunks.push(current);
  return chunks;
}

let graphemeSegmenter: Intl.Segmenter | null | undefined;

/** The word's unbreakable units: grapheme clusters, with an escaping backslash glued to what it escapes. */
function atomicUnits(word: string): string[] {
  if (graphemeSegmenter === undefined) {
    graphemeSegmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
  }
  const clusters = graphemeSegmenter ? Array.from(graphemeSegmenter.segment(word), (s) => s.segment) : Array.from(word);
  const units: string[] = [];
  for (let i = 0; i < clusters.length; i++) {
    if (clusters[i] === '\\' && i + 1 < clusters.length) {
      units.push(clusters[i] + clusters[++i]);
    } else {
      units.push(clusters[i]);
    }
  }
  return units;
}

/** Hard-cuts one over-long word into pieces of at most `limit` code points. */
function cutWord(word: string, limit: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let pieceLength = 0;
  const add = (unit: string, length: number) => {
    if (pieceLength + length > limit) {
      pieces.push(piece);
      piece = '';
      pieceLength = 0;
    }
    piece += unit;
    pieceLength += length;
  };
  for (const unit of atomicUnits(word)) {
    const length = codePointLength(unit);
    if (length <= limit) add(unit, length);
    else for (const codePoint of unit) add(codePoint, 1); // string iteration never splits a surrogate pair
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/** One Discord message built by {@link packPieces}. */
export interface PackedMessage {
  /** The message content, at most `limit` code points, never empty. */
  text: string;
  /** Indexes (ascending) of the input pieces this message carries, in full or in part. */
  pieces: number[];
}

/**
 * Packs consecutive pieces (e.g. transcript lines) into messages of at most `limit` code points (default
 * {@link SAFE_CONTENT_LIMIT}), joined by `'\n'`, in order. Pieces that fit are never split: one that does not fit
 * in the current message starts the next one. A piece longer than the limit starts a new message and is split with
 * {@link splitText}; its chunks go into consecutive messages (its index appears in each of them), and its last
 * chunk may share a message with the pieces after it. A piece counts as delivered once every message listing it
 * has been delivered.
 *
 * Blank pieces (empty or whitespace-only by `trim()`: Discord rejects an empty message) carry no text; their index
 * rides along with the next message (or the last one when nothing follows), so every index appears in some message,
 * unless every piece is blank: then there is nothing to send and the result is `[]`. Pieces that fit are used as
 * given (not trimmed).
 */
export function packPieces(pieces: string[], limit: number = SAFE_CONTENT_LIMIT): PackedMessage[] {
  assertLimit(limit);
  const messages: PackedMessage[] = [];
  let open: PackedMessage | undefined;
  let openLength = 0;
  let blanks: number[] = [];
  const start = (text: string, length: number, index: number) => {
    open = { text, pieces: [...blanks, index] };
    blanks = [];
    openLength = length;
    messages.push(open);
  };
  pieces.forEach((piece, index) => {
    if (piece.trim() === '') {
      if (open) open.pieces.push(index);
      else blanks.push(index);
      return;
    }
    const length = codePointLength(piece);
    if (length <= limit) {
      if (open && openLength + 1 + length <= limit) {
        open.text += '\n' + piece;
        open.pieces.push(index);
        openLength += 1 + length;
      } else {
        start(piece, length, index);
      }
      return;
    }
    for (const chunk of splitText(piece, limit)) start(chunk, codePointLength(chunk), index);
  });
  if (blanks.length > 0 && messages.length > 0) messages[messages.length - 1].pieces.push(...blanks);
  return messages;
}
