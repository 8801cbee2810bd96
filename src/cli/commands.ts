/**
 * The commands that talk to a running process over its control socket.
 * Each parses its own options, prints human output (or `--json`) and
 * returns its exit code.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import type { PatchInfo } from '../core/index.ts';
import type { ControlClient } from '../control/client.ts';
import { discover } from '../control/client.ts';
import type { PackageView, StatusView } from '../control/views.ts';
import type { ObjectState } from '../runtime/patch-modules.ts';
import type { WorkerReply, WorkerStatus } from '../runtime/workers.ts';
import { connectTo, duration, table } from './common.ts';
import { EXIT, UsageError } from './errors.ts';

export interface Context {
  out(line: string): void;
  err(line: string): void;
}

type Command = (args: string[], ctx: Context) => Promise<number>;

const common = {
  pid: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  positionals: [number, number],
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const n = parsed.positionals.length;
  if (n < positionals[0] || n > positionals[1]) {
    throw new UsageError(
      n < positionals[0] ? 'missing argument' : `unexpected argument '${parsed.positionals[positionals[1]]}'`,
    );
  }
  return parsed as unknown as {
    values: { pid?: string; json: boolean } & Record<string, unknown>;
    positionals: string[];
  };
}

async function withClient<T>(pid: string | undefined, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const { client } = await connectTo(pid);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function json(ctx: Context, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}

const ps: Command = async (args, ctx) => {
  const { values } = parse(args, {}, [0, 0]);
  const found = await discover();
  if (values.json) return (json(ctx, found), EXIT.ok);
  if (found.length === 0) {
    ctx.out('no process runs under the loader');
    return EXIT.ok;
  }
  const rows = [['PID', 'UPTIME', 'NODE', 'PATCHES', 'TRANSITION', 'COMMAND']];
  for (const h of found) {
    rows.push([
      String(h.pid),
      duration(Date.now() - h.startedAt),
      h.node,
      String(h.patches),
      h.transition ?? '-',
      h.argv.slice(1).join(' '),
    ]);
  }
  ctx.out(table(rows));
  return EXIT.ok;
};

const load: Command = async (args, ctx) => {
  const { values, positionals } = parse(
    args,
    {
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'allow-pending': { type: 'boolean', default: false },
    },
    [1, 1],
  );
  const timeoutS = values.timeout === undefined ? 60 : Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout needs a number of seconds, not '${String(values.timeout)}'`);
  return withClient(values.pid, async (client) => {
    const file = resolve(positionals[0]!);
    const started = performance.now();
    const result = (await client.request('load', { file, allowPending: values['allow-pending'] === true })) as {
      name: string;
      patch: PatchInfo | null;
      objects?: { name: string | null; state: ObjectState }[];
      workers: WorkerReply[];
    };
    const name = result.name;
    if (!values.json) reportWorkers(ctx, result.workers);
    if (!values.wait || result.patch === null || !result.patch.transition) {
      if (values.json) json(ctx, { ...result, waitedMs: performance.now() - started });
      else {
        ctx.out(`loaded patch '${name}': ${describe(result.patch)}`);
        reportObjects(ctx, result.objects ?? []);
      }
      return EXIT.ok;
    }
    if (!values.json) {
      ctx.out(`loaded patch '${name}': transition in progress`);
      reportObjects(ctx, result.objects ?? []);
    }
    const deadline = started + timeoutS * 1000;
    for (;;) {
      const st = (await client.request('status', { name })) as StatusView;
      const t = st.transition;
      if (t === null) {
        const done = st.patches.find((p) => p.name === name);
        if (values.json) json(ctx, { name, patch: done ?? null, waitedMs: performance.now() - started });
        else ctx.out(`patch '${name}': ${describe(done ?? null)} after ${duration(performance.now() - started)}`);
        return EXIT.ok;
      }
      if (!values.json) ctx.out(`  ${t.direction}: ${t.pending.length} task(s) left${oldest(t.pending)}`);
      if (performance.now() >= deadline) {
        if (values.json) json(ctx, { name, timedOut: true, transition: t });
        else {
          ctx.err(`patch '${name}' is still in transition after ${timeoutS} s; these tasks block it:`);
          for (const line of blockers(t.pending)) ctx.err(line);
          ctx.err(`(it goes on in the background; \`livepatch force ${name}\` completes it unsafely)`);
        }
        return EXIT.timeout;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  });
};

/** Per object: its module is loaded (patched now), or the patch waits for it (and whether the process has such a module file). */
function reportObjects(ctx: Context, objects: readonly { name: string | null; state: ObjectState }[]): void {
  for (const o of objects) ctx.out(`  ${o.name ?? 'vmlinux'}: ${objectState(o.state)}`);
  if (objects.length > 0 && objects.every((o) => o.state !== 'loaded'))
    ctx.out('  no module of the patch is loaded: it changes nothing until one loads');
}

function objectState(state: ObjectState): string {
  if (state === 'loaded') return 'loaded, patched';
  if (state === 'waiting') return 'not loaded yet: waiting for its module (patched when it loads)';
  return 'waiting for a module that is not loaded and has no module file in the application';
}

function reportWorkers(ctx: Context, workers: readonly WorkerReply[] | undefined): void {
  for (const w of workers ?? []) ctx.out(`  worker ${w.threadId}: ${w.ok ? 'ok' : `failed: ${w.error}`}`);
}

function oldest(pending: NonNullable<StatusView['transition']>['pending']): string {
  let o: (typeof pending)[number] | undefined;
  for (const p of pending) if (o === undefined || p.waitingMs > o.waitingMs) o = p;
  if (o === undefined) return '';
  const b = o.blocking[0];
  return `; oldest: ${o.name}:${o.id}${b ? ` in ${b.function} (${b.module ?? 'vmlinux'}${b.line !== null ? `:${b.line}` : ''})` : ''}, ${duration(o.waitingMs)}`;
}

function blockers(pending: NonNullable<StatusView['transition']>['pending']): string[] {
  const out: string[] = [];
  for (const p of pending) {
    const where = p.blocking
      .map((b) => `${b.function} (${b.module ?? 'vmlinux'}${b.line !== null ? `:${b.line}` : ''})`)
      .join(', ');
    const until = p.waitsForEnd
      ? `: a unit of work older than the transition, until it ends (running for ${duration(p.ageMs ?? p.waitingMs)})`
      : '';
    out.push(`  task ${p.name}:${p.id}, waiting ${duration(p.waitingMs)}${where ? `: in ${where}` : until}`);
  }
  return out;
}

function describe(p: Pick<PatchInfo, 'enabled' | 'transition'> | null): string {
  if (p === null) return 'gone (disabled or replaced)';
  if (p.transition)
    return p.enabled ? 'enabled, patching transition in progress' : 'disabled, unpatching transition in progress';
  return p.enabled ? 'enabled' : 'disabled';
}

const unload: Command = async (args, ctx) => {
  const { values, positionals } = parse(args, {}, [1, 1]);
  await withClient(values.pid, (c) => c.request('unload', { name: positionals[0] }));
  if (values.json) json(ctx, { unloaded: positionals[0] });
  else ctx.out(`unloaded patch module '${positionals[0]}'`);
  return EXIT.ok;
};

function sysfsWriter(attr: 'enabled' | 'force', value: string, verb: string): Command {
  return async (args, ctx) => {
    const { values, positionals } = parse(args, {}, [1, 1]);
    const name = positionals[0]!;
    const r = (await withClient(values.pid, (c) => c.request('sysfs.write', { path: `${name}/${attr}`, value }))) as {
      workers?: WorkerReply[];
    };
    if (values.json) json(ctx, { patch: name, [attr]: value, workers: r.workers ?? [] });
    else {
      ctx.out(`${verb} '${name}'`);
      reportWorkers(ctx, r.workers);
    }
    return EXIT.ok;
  };
}

const list: Command = async (args, ctx) => {
  const { values } = parse(args, {}, [0, 0]);
  const st = (await withClient(values.pid, (c) => c.request('status'))) as StatusView;
  if (values.json) return (json(ctx, { patches: st.patches, modules: st.modules }), EXIT.ok);
  if (st.modules.length === 0 && st.patches.length === 0) {
    ctx.out('no patches');
    return EXIT.ok;
  }
  const rows = [['NAME', 'ENABLED', 'TRANSITION', 'STACK', 'REPLACE', 'FORCED', 'CONSISTENCY', 'FILE']];
  for (const p of st.patches) {
    rows.push([
      p.name,
      p.enabled ? '1' : '0',
      p.transition ? '1' : '0',
      String(p.stackOrder),
      p.replace ? '1' : '0',
      p.forced ? '1' : '0',
      p.consistency,
      p.file ?? '-',
    ]);
  }
  for (const m of st.modules)
    if (m.state === 'gone')
      rows.push([m.name, '-', '-', '-', '-', m.forced ? '1' : '0', '-', `${m.file} (patch gone; module loaded)`]);
  ctx.out(table(rows));
  return EXIT.ok;
};

const status: Command = async (args, ctx) => {
  const { values, positionals } = parse(args, {}, [0, 1]);
  const name = positionals[0];
  const st = (await withClient(values.pid, (c) =>
    c.request('status', name !== undefined ? { name } : {}),
  )) as StatusView & { workers: WorkerStatus[] };
  if (values.json) return (json(ctx, st), EXIT.ok);
  if (name !== undefined && st.patches.length === 0 && st.modules.length === 0) {
    ctx.err(`livepatch: no patch '${name}'`);
    return 2;
  }
  for (const p of st.patches) {
    ctx.out(
      `patch ${p.name}: ${describe(p)}${p.forced ? ', forced' : ''}${p.replace ? ', replace' : ''} (stack_order ${p.stackOrder}, ${p.consistency} consistency)`,
    );
    for (const o of p.objects) {
      const funcs = o.funcs
        .map((f) => `${f.oldName}${f.oldSympos > 1 ? `,${f.oldSympos}` : ''}${f.nop ? ' (nop)' : ''}`)
        .join(', ');
      const where = o.loaded ? (o.patched ? 'patched' : 'loaded, not patched') : objectState(o.state);
      ctx.out(`  ${o.name ?? 'vmlinux'}: ${where}${funcs ? ` — ${funcs}` : ''}`);
    }
    // a patch built from a version bump: which version the process behaves as, once every changed module it loaded is patched
    for (const b of p.packages ?? []) {
      if (p.enabled && b.unpatched.length > 0) {
        ctx.out(
          `  package ${b.name} (${b.path}): installed ${b.from}; not ${b.to}: the patch does not patch ${b.unpatched.join(', ')}, which the release changes and the process has loaded`,
        );
        continue;
      }
      const now = !p.enabled ? b.from : p.transition ? `${b.to} once the transition completes` : b.to;
      ctx.out(`  package ${b.name} (${b.path}): installed ${b.from}, the process behaves as ${now}`);
    }
  }
  for (const m of st.modules)
    if (m.state === 'gone')
      ctx.out(`patch module ${m.name}: loaded, its patch is gone${m.forced ? ' (forced: cannot be unloaded)' : ''}`);
  const t = st.transition;
  if (t === null)
    ctx.out(
      st.patches.length === 0 && st.modules.length === 0 ? 'no patches; no transition' : 'no transition in progress',
    );
  else {
    ctx.out(
      `transition: ${t.patch} ${t.direction} (${t.consistency}) for ${duration(t.elapsedMs)}, ${t.retries} retries${t.signalRounds > 0 ? `, ${t.signalRounds} signal rounds` : ''}${t.forced ? ', forced' : ''}`,
    );
    ctx.out(`  ${t.pending.length} task(s) pending${t.pending.length > 0 ? ':' : ''}`);
    for (const line of blockers(t.pending)) ctx.out(line);
  }
  ctx.out(`tasks: ${st.tasks}`);
  for (const w of st.workers) {
    const t = w.transition;
    ctx.out(
      `worker ${w.threadId}: ${w.patches.map((p) => `${p.name}${p.transition ? ' (in transition)' : ''}`).join(', ') || 'no patches'}${t ? `; ${t.patch} ${t.direction}, ${t.pending} task(s) pending` : ''}`,
    );
  }
  return EXIT.ok;
};

const sysfs: Command = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === 'read') {
    const { values, positionals } = parse(rest, {}, [1, 1]);
    const v = (await withClient(values.pid, (c) => c.request('sysfs.read', { path: positionals[0] }))) as string;
    if (values.json) json(ctx, { path: positionals[0], value: v });
    else process.stdout.write(v);
    return EXIT.ok;
  }
  if (sub === 'write') {
    const { values, positionals } = parse(rest, {}, [2, 2]);
    const r = (await withClient(values.pid, (c) =>
      c.request('sysfs.write', { path: positionals[0], value: positionals[1] + '\n' }),
    )) as { written: number; workers?: WorkerReply[] };
    if (values.json) json(ctx, { path: positionals[0], written: r.written, workers: r.workers ?? [] });
    else reportWorkers(ctx, r.workers);
    return EXIT.ok;
  }
  if (sub === 'ls' || sub === 'list') {
    const { values, positionals } = parse(rest, {}, [0, 1]);
    const entries = (await withClient(values.pid, (c) =>
      c.request('sysfs.list', { path: positionals[0] ?? '' }),
    )) as string[];
    if (values.json) json(ctx, entries);
    else for (const e of entries) ctx.out(e);
    return EXIT.ok;
  }
  throw new UsageError('sysfs needs read <path>, write <path> <value> or ls [<path>]');
};

const dmesg: Command = async (args, ctx) => {
  const { values } = parse(
    args,
    {
      C: { type: 'boolean', short: 'C', default: false },
      c: { type: 'boolean', short: 'c', default: false },
      follow: { type: 'boolean', short: 'w', default: false },
    },
    [0, 0],
  );
  const clearOnly = values.C === true;
  return withClient(values.pid, async (client) => {
    const onEvent = (line: unknown): void => (values.json ? ctx.out(JSON.stringify({ line })) : ctx.out(String(line)));
    const pending = client.request(
      'dmesg',
      { clear: clearOnly || values.c === true, follow: values.follow === true },
      onEvent,
    );
    if (values.follow === true) {
      // print what is there, then follow until interrupted
      await new Promise<void>((resolveDone) => {
        process.once('SIGINT', () => resolveDone());
        pending.then(
          () => resolveDone(),
          () => resolveDone(),
        );
      });
      return EXIT.ok;
    }
    const lines = (await pending) as string[];
    if (!clearOnly) {
      if (values.json) json(ctx, lines);
      else for (const l of lines) ctx.out(l);
    }
    return EXIT.ok;
  });
};

const symbols: Command = async (args, ctx) => {
  const { values, positionals } = parse(args, {}, [1, 1]);
  const syms = (await withClient(values.pid, (c) => c.request('symbols', { module: positionals[0] }))) as {
    name: string;
    sympos: number;
    kind: string;
    async: boolean;
    generator: boolean;
    line: number;
    hash: string;
    unpatchable: string | null;
  }[];
  if (values.json) return (json(ctx, syms), EXIT.ok);
  const rows = [['NAME', 'POS', 'KIND', 'LINE', 'HASH', '']];
  for (const s of syms) {
    rows.push([
      s.name,
      String(s.sympos),
      `${s.async ? 'async ' : ''}${s.kind}${s.generator ? '*' : ''}`,
      String(s.line),
      s.hash,
      s.unpatchable ? `not patchable: ${s.unpatchable}` : '',
    ]);
  }
  ctx.out(table(rows));
  return EXIT.ok;
};

/** The packages loaded in the process, to match against an advisory. */
const packages: Command = async (args, ctx) => {
  const { values, positionals } = parse(args, {}, [0, 1]);
  const all = (await withClient(values.pid, (c) => c.request('packages'))) as PackageView[];
  const shown = positionals[0] === undefined ? all : all.filter((p) => p.name === positionals[0]);
  if (values.json) return (json(ctx, shown), EXIT.ok);
  if (shown.length === 0) {
    ctx.out(positionals[0] === undefined ? 'no packages loaded' : `no package '${positionals[0]}' is loaded`);
    return EXIT.ok;
  }
  const rows = [['NAME', 'VERSION', 'BEHAVES AS', 'PATH', 'MODULES']];
  for (const p of shown) {
    const as =
      p.patchedTo === null
        ? '-'
        : `${p.patchedTo.version}${p.patchedTo.transition ? ' (in transition)' : ''} (${p.patchedTo.patch})`;
    rows.push([
      p.name,
      p.version ?? '-',
      as,
      p.path,
      `${p.modules.length}: ${p.modules
        .slice(0, 3)
        .map((m) => m.id)
        .join(', ')}${p.modules.length > 3 ? ', ...' : ''}`,
    ]);
  }
  ctx.out(table(rows));
  return EXIT.ok;
};

export const commands: Record<string, Command> = {
  ps,
  load,
  unload,
  enable: sysfsWriter('enabled', '1', 'enabled'),
  disable: sysfsWriter('enabled', '0', 'disabled'),
  force: sysfsWriter('force', '1', 'forced'),
  list,
  status,
  sysfs,
  dmesg,
  symbols,
  packages,
};
