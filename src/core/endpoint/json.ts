/**
 * A strict RFC 8259 JSON parser that reports line and column.
 *
 * JSON.parse in Node 20 gives a byte offset only for some errors and accepts
 * duplicate keys silently; endpoint details are small (<= 1 MiB), so a small
 * recursive-descent parser with a depth limit costs nothing and tells the
 * administrator exactly where the file is broken.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    /** A duplicate property is valid JSON grammar but ambiguous details. */
    readonly duplicate = false,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

const MAX_DEPTH = 64;

/** Line and column (both from 1) of a character offset: the one routine for every message that points into a text. */
export function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let k = 0; k < at && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

export function parseJson(text: string): Json {
  let i = 0;

  const fail = (reason: string, at = i, duplicate = false): never => {
    const { line, column } = position(text, at);
    throw new JsonSyntaxError(reason, line, column, duplicate);
  };

  const describe = (at: number): string => {
    if (at >= text.length) return 'end of input';
    const code = text.charCodeAt(at);
    if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    // A single character: never enough of a token to leak it.
    return `character '${String.fromCodePoint(text.codePointAt(at) ?? code)}'`;
  };

  const ws = () => {
    for (;;) {
      const code = text.charCodeAt(i);
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) i++;
      else return;
    }
  };

  const value = (depth: number): Json => {
    ws();
    const char = text[i];
    switch (char) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return number();
        return fail(i >= text.length ? 'unexpected end of input, a value was expected' : `unexpected ${describe(i)}, a value was expected`);
    }
  };

  const literal = <T extends Json>(word: string, literalValue: T): T => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return literalValue;
    }
    return fail(`unexpected ${describe(i)}, a value was expected`);
  };

  const number = (): number => {
    const start = i;
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (text[i] !== undefined && text[i]! >= '1' && text[i]! <= '9') while (isDigit(text[i])) i++;
    else return fail(`invalid number: unexpected ${describe(i)}`);
    if (text[i] === '.') {
      i++;
      if (!isDigit(text[i])) return fail(`invalid number: a digit must follow the decimal point`);
      while (isDigit(text[i])) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) return fail(`invalid number: a digit must follow the exponent`);
      while (isDigit(text[i])) i++;
    }
    return Number(text.slice(start, i));
  };

  const string = (): string => {
    const open = i;
    i++; // opening quote
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= text.length) return fail('unterminated string', open);
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        out += text.slice(runStart, i);
        i++;
        return out;
      }
      if (code < 0x20) return fail(`${describe(i)} inside a string (escape it)`);
      if (code === 0x5c) {
        out += text.slice(runStart, i);
        const escaped = text[i + 1];
        switch (escaped) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail('invalid \\u escape: four hexadecimal digits expected');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            return fail(escaped === undefined ? 'unterminated string' : `invalid escape \\${describe(i + 1).replace(/^character '(.*)'$/, '$1')}`);
        }
        i += 2;
        runStart = i;
        continue;
      }
      i++;
    }
  };

  const array = (depth: number): Json[] => {
    if (depth > MAX_DEPTH) return fail(`nesting deeper than ${MAX_DEPTH} levels`);
    i++;
    const out: Json[] = [];
    ws();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      return fail(`unexpected ${describe(i)}, ',' or ']' was expected`);
    }
  };

  const object = (depth: number): { [key: string]: Json } => {
    if (depth > MAX_DEPTH) return fail(`nesting deeper than ${MAX_DEPTH} levels`);
    i++;
    const out: { [key: string]: Json } = Object.create(null);
    ws();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') return fail(`unexpected ${describe(i)}, a property name in double quotes was expected`);
      const keyAt = i;
      const key = string();
      if (Object.hasOwn(out, key)) return fail(`duplicate property "${key}"`, keyAt, true);
      ws();
      if (text[i] !== ':') return fail(`unexpected ${describe(i)}, ':' was expected`);
      i++;
      out[key] = value(depth);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      return fail(`unexpected ${describe(i)}, ',' or '}' was expected`);
    }
  };

  const result = value(0);
  ws();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`);
  return result;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}
