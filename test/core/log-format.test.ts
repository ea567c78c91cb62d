import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { textLine, textStream } from '../../src/daemon/log-format.js';

// log.format=text: pino's JSON lines as a person reads them (nbwss daemon at a terminal, tail -f).
describe('textLine', () => {
  it('time to the second, the level word, the message, then key=value; quoted when a value has spaces; no pid', () => {
    expect(textLine('{"level":30,"time":1796204620359,"pid":7,"host":"ep1.test","group":"sg1","priority":1,"msg":"connected"}')).toBe(
      '2026-12-02T09:43:40Z INFO  connected host=ep1.test group=sg1 priority=1',
    );
    expect(textLine('{"level":40,"time":0,"why":"not trusted yet","msg":"x"}')).toBe('1970-01-01T00:00:00Z WARN  x why="not trusted yet"');
    expect(textLine('{"level":50,"time":0,"err":{"a":1},"msg":"y"}')).toBe('1970-01-01T00:00:00Z ERROR y err={"a":1}');
  });

  it('text from outside is shown through the sanitiser; a line that is not JSON passes, escaped', () => {
    expect(textLine('{"level":30,"time":0,"reason":"a\\u001b[31mb","msg":"m"}')).toBe('1970-01-01T00:00:00Z INFO  m reason=a\\u001b[31mb');
    expect(textLine('plain \u001b text')).toBe('plain \\u001b text');
  });

  it('textStream turns each whole line it is given into one text line, across chunk boundaries', async () => {
    const out = new PassThrough();
    let got = '';
    out.on('data', (d) => (got += d));
    const s = textStream(out);
    s.write('{"level":30,"time":0,"msg":"a"}\n{"level":30,');
    s.write('"time":0,"msg":"b"}\n');
    await new Promise((r) => setImmediate(r));
    expect(got).toBe('1970-01-01T00:00:00Z INFO  a\n1970-01-01T00:00:00Z INFO  b\n');
  });
});
