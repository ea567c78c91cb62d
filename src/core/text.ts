/**
 * The one function that makes text from outside (details files, URLs,
 * endpoints' messages and close reasons, a store someone else wrote) safe to
 * show: every character that could move the cursor, set a title, clear the
 * screen, reorder what is shown or hide in it becomes a visible escape such as
 * `\u202e`. C0 controls (newline and tab included: one value, one line), DEL,
 * C1 controls, bidirectional overrides, embeddings, isolates and marks,
 * zero-width characters and the line and paragraph separators.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The same characters, for a test that keeps no state between calls. */
const ANY_UNSAFE = new RegExp(UNSAFE.source);

/**
 * safeText for every cell of a table. One scan of all the text first: nearly always nothing needs escaping, and
 * `nbwss list` of 1,000 entries then skips 6,000 replace calls at start (`npm run bench`).
 */
export function safeCells(rows: string[][]): string[][] {
  return ANY_UNSAFE.test(rows.map((r) => r.join(' ')).join(' ')) ? rows.map((r) => r.map(safeText)) : rows;
}

/** safeText for each line of a message of several lines (our own line breaks kept). */
export const safeLines = (s: string): string => s.split('\n').map(safeText).join('\n');

/**
 * JSON for a terminal or a pipe: JSON.stringify escapes C0 controls but not
 * C1 controls, bidi or zero-width characters; these become \u escapes too.
 * Lossless: a JSON reader gets exactly the same strings.
 */
export function safeJson(value: unknown): string {
  // JSON.stringify leaves no raw C0 control but the line breaks of its own layout: those stay.
  return (JSON.stringify(value, null, 2) ?? 'null').replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
