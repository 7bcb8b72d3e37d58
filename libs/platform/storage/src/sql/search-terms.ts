/**
 * How a `q` search reads words, on both dialects alike: a word is a run of letters, digits (and private-use
 * characters), as SQLite's FTS5 `unicode61` tokenizer reads them; everything else (punctuation, quotes, FTS or
 * tsquery operators) only separates words. So no user input reaches either database's query syntax: each word is
 * passed on as a quoted FTS5 prefix term or a `word:*` tsquery made of letters and digits only.
 */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

/** Words beyond this many are ignored (each is one more index lookup). */
export const MAX_SEARCH_WORDS = 8;
/** Longer words are cut (no real word is longer; the cut keeps its prefix meaning). */
const MAX_WORD_LENGTH = 64;

/** The distinct lower-cased words of `q`, at most MAX_SEARCH_WORDS; empty when `q` has none. */
export function searchWords(q: string | undefined): string[] {
  if (q === undefined) return [];
  const words = new Set<string>();
  for (const [word] of q.matchAll(WORD)) {
    words.add(word.slice(0, MAX_WORD_LENGTH).toLowerCase());
    if (words.size === MAX_SEARCH_WORDS) break;
  }
  return [...words];
}

/** An FTS5 query for lines with a word starting with `word` (quoted, so it is a term whatever it holds). */
export function fts5PrefixTerm(word: string): string {
  return `"${word.replaceAll('"', '""')}"*`;
}

/** An FTS5 query for lines with a word starting with any of `words`. */
export function fts5AnyPrefix(words: readonly string[]): string {
  return words.map(fts5PrefixTerm).join(' OR ');
}

/** A tsquery for `word` as a prefix (`word` holds only letters and digits, so it cannot be tsquery syntax). */
export function tsPrefixTerm(word: string): string {
  return `${word}:*`;
}

/** A tsquery for lines with a word starting with any of `words`. */
export function tsAnyPrefix(words: readonly string[]): string {
  return words.map(tsPrefixTerm).join(' | ');
}

/** Adds to `found` each of `words` that starts a word of `text`. */
export function collectWords(text: string, words: readonly string[], found: Set<string>): void {
  for (const token of text.matchAll(WORD)) {
    const lower = token[0].toLowerCase();
    for (const word of words) if (lower.startsWith(word)) found.add(word);
  }
}

/** What `text` has of `words`: how many of them start one of its words, and the ranges of those words. */
export function matchLine(text: string, words: readonly string[]): { matched: number; highlights: Array<[number, number]> } {
  const found = new Set<string>();
  const highlights: Array<[number, number]> = [];
  for (const token of text.matchAll(WORD)) {
    const lower = token[0].toLowerCase();
    let hit = false;
    for (const word of words) {
      if (lower.startsWith(word)) {
        found.add(word);
        hit = true;
      }
    }
    if (hit) highlights.push([token.index, token.index + token[0].length]);
  }
  return { matched: found.size, highlights };
}
