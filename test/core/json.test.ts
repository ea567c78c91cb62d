import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson } from '../../src/core/endpoint/json.js';

const err = (text: string) => {
  try {
    parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return e;
    throw e;
  }
  throw new Error(`parsed: ${text}`);
};

describe('parseJson', () => {
  it('parses what JSON.parse parses', () => {
    for (const t of ['{"a":[1,-2.5e3,true,false,null,"x\\u0041\\n"]}', '[]', '{}', '"s"', '0', ' [ 1 , { "b" : { } } ] ']) {
      expect(parseJson(t)).toEqual(JSON.parse(t));
    }
  });

  it('reports line and column of a syntax error', () => {
    const e = err('{\n  "token": "a",\n  "priority": ,\n}');
    expect([e.line, e.column]).toEqual([3, 15]);
    expect(e.message).toBe("unexpected character ',', a value was expected at line 3, column 15");
  });

  it('counts CRLF line endings as one line each', () => {
    const e = err('{\r\n"a": 1\r\n"b": 2}');
    expect(e.line).toBe(3);
    expect(e.column).toBe(1);
  });

  it('refuses duplicate property names', () => {
    expect(err('{"token":"a","token":"b"}').reason).toBe('duplicate property "token"');
  });

  it('refuses trailing commas, single quotes, comments, leading zeros, NaN and trailing garbage', () => {
    for (const t of ['[1,]', "{'a':1}", '{"a":1 /* c */}', '[01]', '[NaN]', '{"a":1} x', '[1.]', '[.5]', '["\\x"]', '["a\tb"]', '']) {
      expect(() => parseJson(t), t).toThrow(JsonSyntaxError);
    }
  });

  it('refuses nesting deeper than 64 levels without overflowing the stack', () => {
    expect(err('['.repeat(100000)).reason).toMatch(/nesting deeper than 64/);
    expect(parseJson(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeDefined();
  });

  it('names a control character by code point, never echoing more than one character', () => {
    expect(err('["a\u0001"]').reason).toBe('control character U+0001 inside a string (escape it)');
    expect(err('{"token": "very-secret-value" x}').message).not.toContain('very-secret');
  });
});
