/**
 * What every CLI command shares: exit codes, usage errors, and finding the
 * process to talk to.
 */

import { ControlClient, ConnectError, discover } from '../control/client.ts';
import type { Hello } from '../control/protocol.ts';

export const EXIT = { ok: 0, failure: 1, usage: 64, unavailable: 69, timeout: 75 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Connect to `--pid`, or to the only process under the loader. */
export async function connectTo(pid: string | undefined): Promise<{ client: ControlClient; hello: Hello }> {
  if (pid !== undefined) {
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--pid needs a process id, not '${pid}'`);
    return ControlClient.open(n);
  }
  let found = await discover();
  // a process opens its control socket once it has run 100 ms (src/register.ts): one just started is waited for
  for (const deadline = Date.now() + 1000; found.length === 0 && Date.now() < deadline; found = await discover()) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (found.length === 0) throw new ConnectError('livepatch: no process runs under the loader (start one with `livepatch run <entry>`)');
  if (found.length > 1) {
    throw new UsageError(`${found.length} processes run under the loader (${found.map((h) => h.pid).join(', ')}): choose one with --pid`);
  }
  return ControlClient.open(found[0]!.pid);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}
