/**
 * The query language of NetBackup's collection resources, as far as the
 * stand-in primary serves it: `filter` (OData-style comparisons joined by
 * `and`), `sort` (comma-separated fields, `-` for descending) and
 * `page[limit]`/`page[offset]`, with JSON:API paging metadata and links.
 */

type Value = string | number | boolean;
interface Comparison {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
  value: Value;
}

export class QueryError extends Error {}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** `jobType eq 'BACKUP' and lastUpdateTime ge 2026-01-01T00:00:00.000Z` → comparisons. */
export function parseFilter(filter: string): Comparison[] {
  const out: Comparison[] = [];
  const re = /^\s*([A-Za-z][A-Za-z0-9]*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|[^\s']+)\s*/;
  let rest = filter;
  for (;;) {
    const m = re.exec(rest);
    if (!m) throw new QueryError(`Invalid filter near "${rest.slice(0, 40)}"`);
    const raw = m[3]!;
    let value: Value;
    if (raw.startsWith("'")) value = raw.slice(1, -1).replaceAll("''", "'");
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (ISO.test(raw)) value = raw;
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    else throw new QueryError(`Invalid value ${raw} in filter`);
    out.push({ field: m[1]!, op: m[2] as Comparison['op'], value });
    rest = rest.slice(m[0].length);
    if (rest === '') return out;
    const and = /^and\s+/.exec(rest);
    if (!and) throw new QueryError(`Invalid filter near "${rest.slice(0, 40)}": only "and" joins comparisons here`);
    rest = rest.slice(and[0].length);
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

function matches(attrs: Record<string, unknown>, c: Comparison): boolean {
  const d = compare(attrs[c.field], c.value);
  switch (c.op) {
    case 'eq':
      return d === 0;
    case 'ne':
      return d !== 0;
    case 'gt':
      return d > 0;
    case 'ge':
      return d >= 0;
    case 'lt':
      return d < 0;
    case 'le':
      return d <= 0;
  }
}

export interface Page<T> {
  items: T[];
  meta: { pagination: Record<string, number> };
  links: Record<string, { href: string }>;
}

/** Filter, sort and page a collection as NetBackup does (default page size 10, at most 100... here 1000). */
export function query<T extends Record<string, unknown>>(all: readonly T[], url: URL, knownFields: readonly string[]): Page<T> {
  const filter = url.searchParams.get('filter');
  const comparisons = filter ? parseFilter(filter) : [];
  for (const c of comparisons) if (!knownFields.includes(c.field)) throw new QueryError(`Unknown filter field ${c.field}`);
  let items = all.filter((a) => comparisons.every((c) => matches(a, c)));
  const sort = url.searchParams.get('sort');
  if (sort) {
    const keys = sort.split(',').map((s) => (s.startsWith('-') ? { f: s.slice(1), dir: -1 } : { f: s, dir: 1 }));
    for (const k of keys) if (!knownFields.includes(k.f)) throw new QueryError(`Unknown sort field ${k.f}`);
    items = [...items].sort((a, b) => {
      for (const k of keys) {
        const d = compare(a[k.f], b[k.f]) * k.dir;
        if (d !== 0) return d;
      }
      return 0;
    });
  }
  const limit = intParam(url, 'page[limit]', 10, 1, 1000);
  const offset = intParam(url, 'page[offset]', 0, 0, Number.MAX_SAFE_INTEGER);
  const count = items.length;
  const page = items.slice(offset, offset + limit);
  const last = count === 0 ? 0 : Math.floor((count - 1) / limit) * limit;
  const pagination: Record<string, number> = { count, offset, limit, first: 0, last, page: Math.floor(offset / limit), pages: Math.ceil(count / limit) };
  if (offset + limit < count) pagination.next = offset + limit;
  if (offset > 0) pagination.prev = Math.max(0, offset - limit);
  const at = (o: number) => {
    const u = new URL(url);
    u.searchParams.set('page[offset]', String(o));
    u.searchParams.set('page[limit]', String(limit));
    return { href: u.pathname + u.search };
  };
  const links: Record<string, { href: string }> = { self: at(offset), first: at(0), last: at(last) };
  if (pagination.next !== undefined) links.next = at(pagination.next);
  if (pagination.prev !== undefined) links.prev = at(pagination.prev);
  return { items: page, meta: { pagination }, links };
}

function intParam(url: URL, name: string, dflt: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw)) throw new QueryError(`${name} must be a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new QueryError(`${name} must be between ${min} and ${max}`);
  return n;
}
