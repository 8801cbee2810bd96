// Small builders for patch definitions used across the core tests.
import type { Callbacks, Consistency, FuncDef, PatchDef, StateDef } from '../../src/core/index.ts';
import { SimWorld, type SimSlot, type WorldOptions } from './sim.ts';

/** A replacement that says which patch it belongs to. */
export function impl(patch: string, fn: string): () => string {
  return () => `${patch}:${fn}`;
}

export interface PatchOpts {
  replace?: boolean;
  consistency?: Consistency;
  states?: StateDef[];
  callbacks?: Callbacks;
  module?: string | null;
  immediate?: string[];
}

/** A patch of the functions `fns` of one object (vmlinux by default). */
export function patchOf(name: string, fns: (string | FuncDef)[], opts: PatchOpts = {}): PatchDef {
  const funcs: FuncDef[] = fns.map((f) =>
    typeof f === 'string'
      ? { oldName: f, newFunc: impl(name, f), ...(opts.immediate?.includes(f) ? { immediate: true } : {}) }
      : f,
  );
  const def: PatchDef = {
    name,
    objects: [{ name: opts.module ?? null, funcs, ...(opts.callbacks ? { callbacks: opts.callbacks } : {}) }],
  };
  if (opts.replace !== undefined) def.replace = opts.replace;
  if (opts.consistency !== undefined) def.consistency = opts.consistency;
  if (opts.states !== undefined) def.states = opts.states;
  return def;
}

/** A world with vmlinux functions a, b, c, d. */
export function basic(options: WorldOptions = { debug: true }) {
  const w = new SimWorld(options);
  const a = w.vmlinux.define('a');
  const b = w.vmlinux.define('b');
  const c = w.vmlinux.define('c');
  const d = w.vmlinux.define('d');
  return { w, lp: w.lp, a, b, c, d };
}

/** What a task runs on a slot now: "original a" or "<patch>:<fn>". */
export function runs(w: SimWorld, slot: SimSlot, task = w.init): unknown {
  return task.call(slot);
}

/** Callbacks that record "<cb>:<object>" into `out`. */
export function recorder(out: string[], opts: { prePatch?: (name: string | null) => number | void } = {}): Callbacks {
  return {
    prePatch: (o) => {
      out.push(`pre_patch:${o.name ?? 'vmlinux'}`);
      return opts.prePatch?.(o.name);
    },
    postPatch: (o) => {
      out.push(`post_patch:${o.name ?? 'vmlinux'}`);
    },
    preUnpatch: (o) => {
      out.push(`pre_unpatch:${o.name ?? 'vmlinux'}`);
    },
    postUnpatch: (o) => {
      out.push(`post_unpatch:${o.name ?? 'vmlinux'}`);
    },
  };
}
