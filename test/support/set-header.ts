/** Sets a response header the way a handler would, on Express (`setHeader`) or Fastify (`header`). */
export function setHeader(res: unknown, name: string, value: string | string[]): void {
  const r = res as { setHeader?: (n: string, v: string | string[]) => void; header?: (n: string, v: string | string[]) => void };
  if (typeof r.setHeader === 'function') r.setHeader(name, value);
  else r.header?.(name, value);
}
