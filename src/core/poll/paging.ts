/**
 * Paging NetBackup's collections as the primary answers, pure: a string
 * cursor (`meta.pagination.next` → `page[after]`, how GET /admin/jobs pages
 * since API 9.0 — the 10.3–11.2 OpenAPI bundles, nbu_exporter's ADR-0003),
 * an offset (`meta.pagination.next` a number → `page[offset]`, how
 * GET /catalog/images pages), or `links.next` — followed only while it stays
 * on api.baseUrl's scheme, host, port and path, so the credentials never go
 * anywhere else. A page larger than asked for is cut to what was asked for.
 */

export type NextPage =
  | { kind: 'after'; cursor: string }
  | { kind: 'offset'; offset: number }
  | { kind: 'link'; path: string }
  | { kind: 'end' }
  /** The answer's paging cannot be followed (a loop, a link elsewhere): the listing ends here, incomplete. */
  | { kind: 'refused'; why: string };

export interface Page {
  items: Record<string, unknown>[];
  next: NextPage;
  /** How many items the primary sent when that was more than asked for (only the first `limit` are in items). */
  oversized?: number;
}

/** Where the request for a page was: what the next one must move past. */
export interface PageRequest {
  offset?: number;
  cursor?: string;
}

const MAX_CURSOR = 4096;

/** One answer of a collection resource made a page; undefined when it is not a collection at all. */
export function readPage(json: unknown, limit: number, base: URL, asked: PageRequest): Page | undefined {
  const body = json as { data?: unknown; meta?: { pagination?: { next?: unknown } }; links?: { next?: { href?: unknown } } } | undefined;
  if (!Array.isArray(body?.data)) return undefined;
  const data = body.data as { attributes?: unknown }[];
  const items = data
    .slice(0, limit)
    .map((d) => (d && typeof d.attributes === 'object' && d.attributes !== null ? (d.attributes as Record<string, unknown>) : {}));
  const oversized = data.length > limit ? data.length : undefined;
  if (data.length === 0) return { items, next: { kind: 'end' }, oversized };
  return { items, next: nextPage(body.meta?.pagination?.next, body.links?.next?.href, base, asked), oversized };
}

export function nextPage(next: unknown, link: unknown, base: URL, asked: PageRequest): NextPage {
  if (typeof next === 'string' && next !== '') {
    if (next.length > MAX_CURSOR) return { kind: 'refused', why: `the paging cursor is longer than ${MAX_CURSOR} characters` };
    if (next === asked.cursor) return { kind: 'refused', why: 'the paging cursor does not move' };
    return { kind: 'after', cursor: next };
  }
  if (typeof next === 'number') {
    if (!Number.isSafeInteger(next) || next < 0) return { kind: 'refused', why: `the next page's offset ${next} is not an offset` };
    if (next <= (asked.offset ?? -1)) return { kind: 'refused', why: `the next page's offset ${next} does not move past ${asked.offset ?? 0}` };
    return { kind: 'offset', offset: next };
  }
  if (typeof link === 'string' && link !== '') {
    const path = sameService(link, base);
    if (path === undefined)
      return { kind: 'refused', why: "links.next leads away from api.baseUrl (not followed: nbwss's credentials go to api.baseUrl only)" };
    return { kind: 'link', path };
  }
  return { kind: 'end' };
}

/**
 * A link's path and query relative to api.baseUrl's path, when it stays on
 * api.baseUrl's scheme, host, port and path; else undefined.
 */
export function sameService(href: string, base: URL): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(href, base);
  } catch {
    return undefined;
  }
  if (parsed.origin !== base.origin || parsed.username !== '' || parsed.password !== '') return undefined;
  const root = base.pathname.replace(/\/$/, '');
  if (!parsed.pathname.startsWith(`${root}/`)) return undefined;
  const rest = parsed.pathname.slice(root.length);
  // No way out of the base path once the server resolves it (.., encoded slashes, path parameters).
  if (/(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\|;/i.test(rest)) return undefined;
  return rest + parsed.search;
}

/** The query of the next page's request, from the query of the first one. */
export function nextQuery(first: URLSearchParams, next: Extract<NextPage, { kind: 'after' | 'offset' }>): URLSearchParams {
  const query = new URLSearchParams(first);
  query.delete('page[after]');
  query.delete('page[offset]');
  if (next.kind === 'after') query.set('page[after]', next.cursor);
  else query.set('page[offset]', String(next.offset));
  return query;
}
