// Request accounting and fault injection. Every request that reaches a cluster is
// recorded (`verb resource[/subresource]`, or `get /path` for non-resource URLs) before
// anything can fail it, so tests and benchmarks measure request economy and retries.

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; or the lower-case method for non-resource URLs. */
  verb: string;
  resourceRequest: boolean;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** `list secrets`, `create serviceaccounts/token`, `get /version`. */
  key: string;
  /** Authenticated user (after impersonation); set once known. */
  user?: string;
  /** HTTP status sent; undefined when the connection was dropped. */
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  /** Request body as received (empty for GET). */
  body?: Buffer;
}

export function requestKey(r: Pick<RequestRecord, 'verb' | 'resourceRequest' | 'resource' | 'subresource' | 'path'>): string {
  if (!r.resourceRequest) return `${r.verb} ${r.path}`;
  return `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
}

export class RequestCounts {
  private readonly map = new Map<string, number>();
  readonly log: RequestRecord[] = [];

  record(r: RequestRecord): void {
    this.map.set(r.key, (this.map.get(r.key) ?? 0) + 1);
    this.log.push(r);
  }

  /** Number of requests with this key (`list secrets`, `get /version`), 0 when none. */
  get(key: string): number {
    return this.map.get(key) ?? 0;
  }

  get total(): number {
    return this.log.length;
  }

  /** Requests to API resources only (discovery, OpenAPI, /version … excluded). */
  get resourceTotal(): number {
    return this.log.filter((r) => r.resourceRequest).length;
  }

  entries(): Array<[string, number]> {
    return [...this.map.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Requests matching a predicate or a partial record. */
  filter(match: ((r: RequestRecord) => boolean) | FaultMatch): RequestRecord[] {
    const fn = typeof match === 'function' ? match : (r: RequestRecord) => matches(match, r);
    return this.log.filter(fn);
  }

  reset(): void {
    this.map.clear();
    this.log.length = 0;
  }
}

export interface FaultMatch {
  verb?: string | string[];
  /** Resource (`secrets`), or `resource/subresource` (`serviceaccounts/token`). */
  resource?: string | string[];
  group?: string;
  namespace?: string;
  name?: string;
  /** Exact URL path, or a RegExp tested against it. */
  path?: string | RegExp;
  /** Authenticated user name (after impersonation). Only checked for conflict faults. */
  user?: string;
  predicate?: (r: RequestRecord) => boolean;
}

export type FaultAction =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; code: number; retryAfterSeconds?: number; message?: string }
  | { kind: 'drop' }
  | { kind: 'conflict' }
  /** Runs before the request is handled, which then goes on: another writer acting in between. */
  | { kind: 'hook'; run: (r: RequestRecord) => void };

export interface FaultRule {
  match?: FaultMatch;
  action: FaultAction;
  /** How many matching requests it affects (default: all until removed). */
  times?: number;
}

function oneOf(want: string | string[] | undefined, have: string | undefined): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? want.includes(have ?? '') : want === have;
}

export function matches(m: FaultMatch, r: RequestRecord): boolean {
  if (!oneOf(m.verb, r.verb)) return false;
  if (m.resource !== undefined) {
    const full = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    const list = Array.isArray(m.resource) ? m.resource : [m.resource];
    if (!r.resourceRequest || !list.some((x) => x === full || (x === r.resource && !r.subresource))) return false;
  }
  if (m.group !== undefined && m.group !== (r.group ?? '')) return false;
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false;
  if (m.name !== undefined && m.name !== r.name) return false;
  if (m.path !== undefined && !(typeof m.path === 'string' ? m.path === r.path : m.path.test(r.path))) return false;
  if (m.user !== undefined && m.user !== r.user) return false;
  if (m.predicate && !m.predicate(r)) return false;
  return true;
}

export class Fault {
  hits = 0;
  constructor(
    readonly rule: FaultRule,
    private readonly owner: Faults,
  ) {}

  get remaining(): number {
    return (this.rule.times ?? Infinity) - this.hits;
  }

  get exhausted(): boolean {
    return this.remaining <= 0;
  }

  remove(): void {
    this.owner.remove(this);
  }
}

export class Faults {
  private rules: Fault[] = [];

  add(rule: FaultRule): Fault {
    const f = new Fault(rule, this);
    this.rules.push(f);
    return f;
  }

  remove(fault: Fault): void {
    this.rules = this.rules.filter((f) => f !== fault);
  }

  clear(): void {
    this.rules = [];
  }

  get active(): Fault[] {
    return this.rules.filter((f) => !f.exhausted);
  }

  /** Delay every matching request by `ms`. */
  latency(match: FaultMatch, ms: number, times?: number): Fault {
    return this.add({ match, action: { kind: 'latency', ms }, times });
  }

  /** 429 TooManyRequests with `Retry-After` for the next `times` matching requests. */
  tooManyRequests(match: FaultMatch, options: { times?: number; retryAfterSeconds?: number } = {}): Fault {
    return this.add({ match, action: { kind: 'status', code: 429, retryAfterSeconds: options.retryAfterSeconds ?? 1 }, times: options.times ?? 1 });
  }

  /** 500 (or 503 …) for the next `times` matching requests. */
  serverError(match: FaultMatch, options: { times?: number; code?: number; message?: string } = {}): Fault {
    return this.add({ match, action: { kind: 'status', code: options.code ?? 500, message: options.message }, times: options.times ?? 1 });
  }

  /** Destroys the connection without an answer for the next `times` matching requests. */
  dropConnection(match: FaultMatch, times = 1): Fault {
    return this.add({ match, action: { kind: 'drop' }, times });
  }

  /** 409 Conflict (stale resourceVersion) on the next `times` matching updates/patches. */
  conflict(match: FaultMatch, times = 1): Fault {
    return this.add({ match: { verb: ['update', 'patch'], ...match }, action: { kind: 'conflict' }, times });
  }

  /**
   * Runs `run` just before the next `times` matching requests are handled, e.g. to change
   * an object between a client's LIST and its DELETE, as a concurrent writer would.
   */
  before(match: FaultMatch, run: (r: RequestRecord) => void, times = 1): Fault {
    return this.add({ match, action: { kind: 'hook', run }, times });
  }

  /** Total latency to add and the first terminal action (status/drop) for a request; runs hooks; consumes hits. */
  onRequest(r: RequestRecord): { latencyMs: number; action?: FaultAction } {
    let latencyMs = 0;
    let action: FaultAction | undefined;
    for (const f of this.rules) {
      if (f.exhausted || f.rule.action.kind === 'conflict' || !matches(f.rule.match ?? {}, r)) continue;
      if (f.rule.action.kind === 'latency') {
        f.hits++;
        latencyMs += f.rule.action.ms;
      } else if (f.rule.action.kind === 'hook') {
        f.hits++;
        f.rule.action.run(r);
      } else if (!action) {
        f.hits++;
        action = f.rule.action;
      }
    }
    return { latencyMs, action };
  }

  /** Whether an update/patch should fail with an injected conflict; consumes a hit. */
  takeConflict(r: RequestRecord): boolean {
    for (const f of this.rules) {
      if (f.exhausted || f.rule.action.kind !== 'conflict' || !matches(f.rule.match ?? {}, r)) continue;
      f.hits++;
      return true;
    }
    return false;
  }
}
