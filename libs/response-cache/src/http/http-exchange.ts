import { StreamableFile } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { bodyBytes } from '../store/body-bytes';
import { fastifyRoute, hasNoReplySerializer } from './fastify-internals';
import type { CacheEntry, DraftEntry } from '../store/cache-store';

/**
 * The little the cache needs of a request and its response, the same on Express and Fastify.
 */
export interface HttpExchange {
  readonly platform: 'express' | 'fastify';
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** Path without the query string, as received. */
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly params: Record<string, string>;
  /** Route pattern (`/api/users/:id`), for metrics and logs. */
  readonly route: string;
  status(): number;
  setStatus(code: number): void;
  getHeader(name: string): string | undefined;
  setHeader(name: string, value: string): void;
  /** Names (lower-case) of the response headers set so far. */
  headerNames(): string[];
  /** What the platform sends as these bytes unchanged (Nest would serialize a Buffer as JSON on Express). */
  bytes(body: Buffer): unknown;
  /** What a hit of `entry` hands to Nest's reply as its identity body: the cheapest value the platform sends as the entry's bytes. */
  identityBody(entry: CacheEntry | DraftEntry): unknown;
  /**
   * Sends a hit's body (an {@link identityBody} or bytes) as Nest's reply would send it, the same
   * bytes on the wire without encoding them again; false (nothing sent) when only the platform's
   * reply through Nest sends it right.
   */
  sendHit(body: unknown, entry: CacheEntry): boolean;
  /** The platform's route that the request was routed to (undefined before routing). */
  routeId(): RouteId | undefined;
  /**
   * The body and default content type that the platform sends for a handler's value, exactly as
   * Nest would send it; undefined for values the cache does not store (streams, buffers, nothing).
   */
  serialize(value: unknown): Serialized | undefined;
}

/** A platform route: Express's `Route` object, or a Fastify route's URL (`HEAD <url>` for an explicit HEAD route). */
export type RouteId = object | string;

/** Above this many characters (UTF-16 units) a body goes as bytes: a string would be copied into the head's write. */
const STRING_BODY_MAX = 16 * 1024;

/** A `Content-Type` exactly as Express's `res.send` writes it for a string: one parameter, `charset=utf-8`. */
const CANONICAL_UTF8_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+; charset=utf-8$/;

/** The `Content-Type` says `charset=utf-8`. */
function saysUtf8(type: number | string | string[] | undefined): boolean {
  return typeof type === 'string' && /;\s*charset=utf-8\s*(;|$)/i.test(type);
}

/** A value as the platform sends it. */
export interface Serialized {
  body: string;
  contentType: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Values the cache stores: what Nest hands to the platform's serializer (not streams, buffers, null). */
function storable(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'object') return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  if (value instanceof StreamableFile || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}

interface ExpressRequest {
  method: string;
  headers: IncomingHttpHeaders;
  path: string;
  query: Record<string, unknown>;
  params: Record<string, string>;
  route?: { path?: string };
  baseUrl?: string;
  app?: { get(setting: string): unknown };
}

interface ExpressResponse {
  statusCode: number;
  getHeaderNames(): string[];
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string): void;
  send(body: Buffer): unknown;
}

interface FastifyRequest {
  raw: unknown;
  method: string;
  headers: IncomingHttpHeaders;
  url: string;
  query: Record<string, unknown>;
  params: Record<string, string>;
  routeOptions?: { url?: string };
}

interface FastifyReply {
  statusCode: number;
  send(body: Buffer | string): unknown;
  code(code: number): unknown;
  header(name: string, value: string): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaders(): Record<string, unknown>;
  raw: { getHeader(name: string): number | string | string[] | undefined; getHeaderNames(): string[] };
}

function headerValue(value: number | string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

class ExpressExchange implements HttpExchange {
  readonly platform = 'express';
  constructor(
    private readonly req: ExpressRequest,
    private readonly res: ExpressResponse,
  ) {}
  get method(): string {
    return this.req.method;
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get path(): string {
    return (this.req.baseUrl ?? '') + this.req.path;
  }
  get query(): Record<string, unknown> {
    return this.req.query ?? {};
  }
  get params(): Record<string, string> {
    return this.req.params ?? {};
  }
  get route(): string {
    return (this.req.baseUrl ?? '') + (this.req.route?.path ?? '');
  }
  status(): number {
    return this.res.statusCode;
  }
  setStatus(code: number): void {
    this.res.statusCode = code;
  }
  getHeader(name: string): string | undefined {
    return headerValue(this.res.getHeader(name));
  }
  headerNames(): string[] {
    return this.res.getHeaderNames();
  }
  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }
  bytes(body: Buffer): unknown {
    return new StreamableFile(body, { length: body.length });
  }
  /** The body as the handler's value was sent: a string, which `res.send` encodes. */
  identityBody(entry: CacheEntry | DraftEntry): unknown {
    return entry.body;
  }
  /**
   * Nest's reply sends a string with `res.send`, which sends a Buffer's bytes the same way but for
   * one thing: for a string it rewrites the `Content-Type` to say `charset=utf-8`, in its own
   * format (lower case, `; ` before the parameter). So only where the type is that already (JSON
   * and text from a handler), with the bytes encoded once per entry; any other type goes through
   * the reply.
   */
  sendHit(body: unknown, entry: CacheEntry): boolean {
    if (typeof body !== 'string' || !CANONICAL_UTF8_TYPE.test(String(this.res.getHeader('content-type')))) return false;
    this.res.send(bodyBytes(entry));
    return true;
  }
  routeId(): RouteId | undefined {
    return this.req.route;
  }
  /** Nest's Express adapter: objects through `res.json` (the app's json settings), the rest as `String(value)` (HTML). */
  serialize(value: unknown): Serialized | undefined {
    if (!storable(value)) return undefined;
    if (typeof value !== 'object') return { body: String(value), contentType: 'text/html; charset=utf-8' };
    const app = this.req.app;
    const replacer = app?.get('json replacer') as ((key: string, value: unknown) => unknown) | undefined;
    const spaces = app?.get('json spaces') as number | string | undefined;
    let body = JSON.stringify(value, replacer, spaces);
    if (app?.get('json escape') === true) body = body.replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return { body, contentType: JSON_TYPE };
  }
}

class FastifyExchange implements HttpExchange {
  readonly platform = 'fastify';
  constructor(
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}
  get method(): string {
    return this.req.method;
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get path(): string {
    const url = this.req.url;
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  get query(): Record<string, unknown> {
    return this.req.query ?? {};
  }
  get params(): Record<string, string> {
    return this.req.params ?? {};
  }
  get route(): string {
    return this.req.routeOptions?.url ?? '';
  }
  status(): number {
    return this.reply.statusCode;
  }
  setStatus(code: number): void {
    this.reply.code(code);
  }
  getHeader(name: string): string | undefined {
    return headerValue(this.reply.getHeader(name) ?? this.reply.raw.getHeader(name));
  }
  headerNames(): string[] {
    return [...new Set([...Object.keys(this.reply.getHeaders()), ...this.reply.raw.getHeaderNames()].map((n) => n.toLowerCase()))];
  }
  setHeader(name: string, value: string): void {
    this.reply.header(name, value);
  }
  bytes(body: Buffer): unknown {
    return body;
  }
  /**
   * A small body as its string where the `Content-Type` says UTF-8 and no reply serializer is set:
   * Fastify then sends it as it is, in one write with the head (as it sends a handler's
   * serialized value); otherwise its bytes, encoded once per entry (which `charset` and a
   * serializer leave alone).
   */
  identityBody(entry: CacheEntry | DraftEntry): unknown {
    const plain = entry.body.length <= STRING_BODY_MAX && hasNoReplySerializer(this.reply);
    return plain && saysUtf8(this.reply.getHeader('content-type')) ? entry.body : bodyBytes(entry);
  }
  /** Nest's reply hands a string or a Buffer to `reply.send` as it is (it only treats streams and errors apart). */
  sendHit(body: unknown): boolean {
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) return false;
    this.reply.send(body);
    return true;
  }
  routeId(): RouteId | undefined {
    return fastifyRoute(this.req);
  }
  /** Fastify: strings as text, everything else through its default serializer (JSON). */
  serialize(value: unknown): Serialized | undefined {
    if (!storable(value)) return undefined;
    if (typeof value === 'string') return { body: value, contentType: 'text/plain; charset=utf-8' };
    return { body: JSON.stringify(value), contentType: JSON_TYPE };
  }
}

/** A request header as one string (repeated fields joined, as RFC 9110 §5.3 combines them). */
export function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Wraps the platform request/response pair (Fastify requests carry `raw`; Express ones do not). */
export function httpExchange(request: unknown, response: unknown): HttpExchange {
  return (request as { raw?: unknown }).raw !== undefined
    ? new FastifyExchange(request as FastifyRequest, response as FastifyReply)
    : new ExpressExchange(request as ExpressRequest, response as ExpressResponse);
}

/** True when the request announces a body (a GET with a body is never cached). */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}
