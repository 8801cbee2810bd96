/**
 * Steady HTTP load for transition tests: `clients` requests kept in flight
 * against 127.0.0.1:port until `stop()`, which returns how often each body
 * was answered.
 */
export function httpLoad(
  port: number,
  clients: number,
  path: (client: number) => string,
): { stop: () => Promise<Map<string, number>> } {
  const counts = new Map<string, number>();
  let running = true;
  const loops = Array.from({ length: clients }, async (_, i) => {
    while (running) {
      const res = await fetch(`http://127.0.0.1:${port}${path(i)}`);
      const body = await res.text();
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

/** Responses that ran the old code in one call and the new in the other. */
export function mixed(counts: ReadonlyMap<string, number>): number {
  return (counts.get('old/new') ?? 0) + (counts.get('new/old') ?? 0);
}
