/**
 * What every CLI command shares: finding the process to talk to, and
 * formatting tables and durations. (Exit statuses and usage errors: errors.ts.)
 */

import { ControlClient, discover } from '../control/client.ts';
import { ConnectError } from '../control/errors.ts';
import type { Hello } from '../control/protocol.ts';
import { UsageError } from './errors.ts';

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
  if (found.length === 0) {
    const message = 'livepatch: no process runs under the loader (start one with `livepatch run <entry>`)';
    throw new ConnectError('LP_ERR_NO_PROCESS', message);
  }
  if (found.length > 1) {
    throw new UsageError(
      `${found.length} processes run under the loader (${found.map((h) => h.pid).join(', ')}): choose one with --pid`,
    );
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
