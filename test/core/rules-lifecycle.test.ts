// R6–R11: enable and disable sequences, atomic replace, callbacks, modules
// coming and going, freeing and forced patches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot } from '../support/sim.ts';
import { basic, impl, patchOf, recorder, runs } from '../support/fixtures.ts';
import type { KlpEvent } from '../../src/core/index.ts';

test('R6.1: EBUSY comes before "enabling patch"; symbol errors before EBUSY', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p1', ['a']));
  w.lp.log.clear();
  assert.throws(() => lp.enablePatch(patchOf('p2', ['nope'])), { errno: -22 });
  assert.throws(() => lp.enablePatch(patchOf('p2', ['b'])), { errno: -16 });
  assert.deepEqual(w.lines(), ["livepatch: symbol 'nope' not found in symbol table"]);
});

test('R6.1/R6.2: the enable sequence with loaded and absent objects', () => {
  const { w, lp } = basic({ debug: true });
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  const calls: string[] = [];
  const cbs = recorder(calls);
  const s = w.spawn('s');
  s.enter(mod.slot('x'));
  lp.subscribe((e) => {
    if (e.type === 'log' && e.record.text.startsWith('livepatch: ')) calls.push(e.record.text.slice(11));
  });
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [], callbacks: cbs },
      { name: 'absent', funcs: [{ oldName: 'y', newFunc: () => 0 }], callbacks: cbs },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: () => 1 }], callbacks: cbs },
    ],
  });
  s.leave();
  w.settle();
  assert.deepEqual(calls, [
    "enabling patch 'p'",
    "'p': initializing patching transition",
    'pre_patch:vmlinux',
    'pre_patch:m',
    "'p': starting patching transition",
    "'p': completing patching transition",
    'post_patch:vmlinux',
    'post_patch:m',
    "'p': patching complete",
  ]);
});

test('R6.3: objects of absent modules are skipped but their funcs are in transition', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: () => 0 }] },
      { name: 'later', funcs: [{ oldName: 'x', newFunc: impl('p', 'x') }] },
    ],
  });
  const info = lp.patch('p')!.objects[1]!;
  assert.deepEqual([info.loaded, info.patched, info.funcs[0]!.transition], [false, false, true]);
  const mod = w.module('later', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  // Loaded mid-transition: s (unpatched) keeps the old view, a switched task sees the new one.
  assert.equal(s.call(x), 'original x');
  assert.equal(w.init.call(x), 'p:x');
  assert.equal(lp.stackOf(x)[0]!.transition, true);
});

test('R7.1: the disable sequence — pre_unpatch only for patched objects; EBUSY when another is in transition', () => {
  const { w, lp, a } = basic({ debug: true });
  const calls: string[] = [];
  const cbs = recorder(calls);
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [], callbacks: cbs },
      { name: 'absent', funcs: [], callbacks: cbs },
    ],
  });
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('q', ['a']));
  assert.throws(() => lp.disable('p'), { errno: -16, message: /patch 'q' is in transition/ });
  s.leave();
  w.settle();
  calls.length = 0;
  lp.disable('p');
  assert.deepEqual(calls, ['pre_unpatch:vmlinux', 'post_unpatch:vmlinux']);
  assert.throws(() => lp.disable('p'), { code: 'ENOENT' });
});

test('R7.2: no stacking order — a patch in the middle can be disabled; stack_order shifts down', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p1', ['a']));
  lp.enablePatch(patchOf('p2', ['a']));
  lp.enablePatch(patchOf('p3', ['a']));
  assert.equal(lp.sysfs.read('p3/stack_order'), '3\n');
  lp.disable('p2');
  assert.deepEqual(
    lp.stackOf(a).map((f) => f.patchName),
    ['p3', 'p1'],
  );
  assert.equal(lp.sysfs.read('p3/stack_order'), '2\n');
  assert.equal(runs(w, a), 'p3:a');
  lp.disable('p3');
  assert.equal(runs(w, a), 'p1:a');
});

test('R8.1: nops for every func of active patches the replace patch does not carry, same name and position skipped', () => {
  const { w, lp } = basic();
  w.vmlinux.define('dup');
  w.vmlinux.define('dup');
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  lp.enablePatch({
    name: 'p1',
    objects: [
      {
        name: null,
        funcs: [
          { oldName: 'a', newFunc: () => 1 },
          { oldName: 'b', newFunc: () => 2 },
          { oldName: 'dup', oldSympos: 2, newFunc: () => 3 },
        ],
      },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: () => 4 }] },
      { name: 'gone', funcs: [{ oldName: 'z', newFunc: () => 5 }] },
    ],
  });
  lp.enablePatch(patchOf('p2', ['c']));
  const s = w.spawn('s');
  s.enter(w.vmlinux.entries[0]!.slot); // holds the original a
  lp.enablePatch({
    name: 'r',
    replace: true,
    objects: [
      {
        name: null,
        funcs: [
          { oldName: 'a', newFunc: () => 9 },
          { oldName: 'dup', oldSympos: 1, newFunc: () => 8 },
        ],
      },
    ],
  });
  const shape = lp
    .patch('r')!
    .objects.map((o) => [o.name, o.dynamic, o.funcs.map((f) => `${f.oldName},${f.oldSympos}${f.nop ? ' nop' : ''}`)]);
  assert.deepEqual(shape, [
    [null, false, ['a,0', 'dup,1', 'b,0 nop', 'dup,2 nop', 'c,0 nop']],
    ['m', true, ['x,0 nop']],
    ['gone', true, ['z,0 nop']],
  ]);
  assert.deepEqual(lp.sysfs.list('r'), [
    'enabled',
    'transition',
    'force',
    'replace',
    'stack_order',
    'vmlinux',
    'm',
    'gone',
  ]);
});

test('R8.2/R8.3: during the replace, unpatched tasks run the old patch; after it, functions only the old patch touched run original code', () => {
  const { w, lp, a, b } = basic();
  const calls: string[] = [];
  lp.enablePatch(patchOf('old', ['a', 'b'], { callbacks: recorder(calls) }));
  const s = w.spawn('s');
  s.enter(a);
  calls.length = 0;
  const events: string[] = [];
  lp.subscribe((e: KlpEvent) => {
    if (e.type === 'patch-freed') events.push(`${e.patch}:${e.reason}`);
  });
  lp.enablePatch(patchOf('new', ['a'], { replace: true }));
  assert.equal(s.call(b), 'old:b'); // unpatched: old patch
  assert.equal(w.init.call(b), 'original b'); // patched: nop → original
  assert.equal(w.init.call(a), 'new:a');
  s.leave();
  w.settle();
  assert.equal(runs(w, b), 'original b');
  assert.deepEqual(lp.stackOf(b), []);
  assert.deepEqual(calls, []); // no callback of the replaced patch
  assert.deepEqual(lp.sysfs.list(''), ['new']);
  assert.deepEqual(events, ['old:replaced']);
  assert.ok(lp.patch('new')!.objects.every((o) => o.funcs.every((f) => !f.nop)));
});

test('R8.4: a reversed replace leaves the older patches untouched', () => {
  const { w, lp, a, b } = basic();
  lp.enablePatch(patchOf('old', ['a', 'b']));
  const before = lp.patch('old');
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('new', ['a'], { replace: true }));
  lp.disable('new'); // reverse
  s.leave();
  w.settle();
  assert.deepEqual(lp.patch('old'), before);
  assert.deepEqual([runs(w, a), runs(w, b)], ['old:a', 'old:b']);
  assert.deepEqual(lp.sysfs.list(''), ['old']);
});

test('R8.5: a replaced patch cannot come back; loading it again is a new enable', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('v1', ['a'], { replace: true }));
  lp.enablePatch(patchOf('v2', ['a'], { replace: true }));
  assert.throws(() => lp.sysfs.write('v1/enabled', '1'), { code: 'ENOENT' });
  lp.enablePatch(patchOf('v1', ['a'], { replace: true })); // downgrade: replaces v2
  assert.deepEqual(lp.sysfs.list(''), ['v1']);
  assert.equal(runs(w, a), 'v1:a');
});

test('R9.1: post_unpatch runs iff pre_patch succeeded — also when patching the object failed — and only once', () => {
  const refuse = new Set<import('../../src/core/index.ts').Slot>();
  const { w, lp } = basic({ refuse });
  const mod = w.module('m', true);
  const x = mod.define('x');
  refuse.add(x);
  const calls: string[] = [];
  lp.enablePatch({
    name: 'p',
    objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: () => 0 }], callbacks: recorder(calls) }],
  });
  assert.throws(() => w.load(mod, { log: false }), { errno: -16 });
  assert.deepEqual(calls, ['pre_patch:m', 'post_unpatch:m']);
  assert.ok(w.lines().includes("livepatch: failed to apply patch 'p' to module 'm' (-16)"));
  calls.length = 0;
  lp.disable('p');
  assert.deepEqual(calls, []); // never bound: no pre/post_unpatch for m
});

test('R9.2: module loaded during a transition: pre_patch now, post_patch at completion; unloaded during one: no pre_unpatch', () => {
  const { w, lp, a } = basic();
  const calls: string[] = [];
  const cbs = recorder(calls);
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: () => 0 }], callbacks: cbs },
      { name: 'm', funcs: [], callbacks: cbs },
      { name: 'n', funcs: [], callbacks: cbs },
    ],
  });
  const m = w.module('m', true);
  w.load(m, { log: false });
  const n = w.module('n', true);
  w.load(n, { log: false });
  w.unload(n, { log: false });
  assert.deepEqual(calls, ['pre_patch:vmlinux', 'pre_patch:m', 'pre_patch:n', 'post_unpatch:n']);
  s.leave();
  w.settle();
  assert.deepEqual(calls.slice(4), ['post_patch:vmlinux', 'post_patch:m']);
});

test('R9.3: a pre_patch that throws fails the enable with its errno (or EINVAL) and a clear message', () => {
  const { w, lp } = basic();
  const before = snapshot(w);
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          {
            name: null,
            funcs: [],
            callbacks: {
              prePatch: () => {
                throw new Error('no database');
              },
            },
          },
        ],
      }),
    { errno: -22, message: /pre-patch callback failed for object 'vmlinux' of patch 'p': no database/ },
  );
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          {
            name: null,
            funcs: [],
            callbacks: {
              prePatch: () => {
                throw Object.assign(new Error('x'), { errno: -19 });
              },
            },
          },
        ],
      }),
    { errno: -19, code: 'ENODEV' },
  );
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [{ name: null, funcs: [], callbacks: { prePatch: (() => Promise.resolve()) as never } }],
      }),
    { errno: -22, message: /synchronous/ },
  );
  assert.deepEqual(snapshot(w), before);
});

test('R9.4: callbacks see the module state: live on enable, coming on load, going on unload', () => {
  const { w, lp } = basic();
  const states: string[] = [];
  const mod = w.module('m', true);
  w.load(mod, { log: false });
  const cb = (o: { name: string | null; state: string; patch: string }) => {
    states.push(`${o.name}:${o.state}:${o.patch}`);
  };
  lp.enablePatch({
    name: 'p',
    objects: [{ name: 'm', funcs: [], callbacks: { prePatch: cb, postPatch: cb, preUnpatch: cb, postUnpatch: cb } }],
  });
  w.unload(mod, { log: false });
  const again = w.module('m', true);
  w.load(again, { log: false });
  assert.deepEqual(states, ['m:live:p', 'm:live:p', 'm:going:p', 'm:going:p', 'm:coming:p', 'm:coming:p']);
});

test('R9 (JS): a throwing post/pre_unpatch callback is logged and cannot stop the transition', () => {
  const { w, lp, a } = basic();
  const boom = () => {
    throw new Error('kaput');
  };
  lp.enablePatch(patchOf('p', ['a'], { callbacks: { postPatch: boom, preUnpatch: boom, postUnpatch: boom } }));
  lp.disable('p');
  assert.equal(runs(w, a), 'original a');
  assert.deepEqual(
    w.lines().filter((l) => l.includes('threw')),
    [
      "livepatch: 'p': post_patch callback for object 'vmlinux' threw: kaput",
      "livepatch: 'p': pre_unpatch callback for object 'vmlinux' threw: kaput",
      "livepatch: 'p': post_unpatch callback for object 'vmlinux' threw: kaput",
    ],
  );
});

test('R10.1/R10.3: a refused module load reverts earlier patches, leaves later ones unbound, and the core as it was', () => {
  const { w, lp } = basic({ debug: true });
  const calls: string[] = [];
  const cbs = recorder(calls, {
    prePatch: (n) => (n === 'm' && calls.filter((c) => c === 'pre_patch:m').length === 2 ? -19 : 0),
  });
  const obj = (p: string) => ({
    name: p,
    objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: impl(p, 'x') }], callbacks: cbs }],
  });
  lp.enablePatch(obj('p1'));
  lp.enablePatch(obj('p2'));
  lp.enablePatch(obj('p3'));
  const before = snapshot(w);
  w.lp.log.clear();
  const mod = w.module('m', true);
  const x = mod.define('x');
  assert.throws(() => w.load(mod, { log: false }), { errno: -19, message: /patch 'p2' failed for module 'm'/ });
  assert.deepEqual(calls, ['pre_patch:m', 'post_patch:m', 'pre_patch:m', 'pre_unpatch:m', 'post_unpatch:m']);
  assert.deepEqual(w.lines(), [
    "livepatch: applying patch 'p1' to loading module 'm'",
    "livepatch: applying patch 'p2' to loading module 'm'",
    "livepatch: pre-patch callback failed for object 'm'",
    "livepatch: patch 'p2' failed for module 'm', refusing to load module 'm'",
    "livepatch: reverting patch 'p1' on unloading module 'm'",
  ]);
  assert.deepEqual(lp.stackOf(x), []);
  assert.deepEqual(snapshot(w), before);
  assert.throws(() => lp.moduleComing({ name: 'vmlinux', state: 'coming', symbols: { lookup: () => [] } }), {
    errno: -22,
  });
  assert.equal(w.lines().at(-1), 'livepatch: vmlinux.ko: invalid module name');
  assert.throws(() => lp.moduleComing({ name: 'q', state: 'live', symbols: { lookup: () => [] } }), { errno: -22 });
});

test('R10.2: a module loaded before the core existed is bound if the runtime reports it live', () => {
  const { w, lp } = basic();
  const mod = w.module('pre', true);
  const f = mod.define('f');
  mod.state = 'live';
  mod.loaded = true;
  w.modules.set('pre', mod); // never passed moduleComing
  lp.enablePatch({ name: 'p', objects: [{ name: 'pre', funcs: [{ oldName: 'f', newFunc: impl('p', 'f') }] }] });
  assert.equal(runs(w, f), 'p:f');
  mod.state = 'going';
  lp.moduleGoing(mod);
  assert.deepEqual(lp.stackOf(f), []);
});

test('R10.4: going reverts every patch of the module (pre_unpatch unless in transition) and never fails', () => {
  const { w, lp, a } = basic();
  const calls: string[] = [];
  const obj = (p: string, extra: string[] = []) => ({
    name: p,
    objects: [
      { name: null, funcs: extra.map((e) => ({ oldName: e, newFunc: () => 0 })) },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: impl(p, 'x') }], callbacks: recorder(calls) },
    ],
  });
  const mod = w.module('m', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  lp.enablePatch(obj('p1'));
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(obj('p2', ['a']));
  calls.length = 0;
  w.unload(mod, { log: false });
  assert.deepEqual(calls, ['pre_unpatch:m', 'post_unpatch:m', 'post_unpatch:m']); // p2 is in transition: no pre_unpatch
  assert.deepEqual(lp.stackOf(x), []);
  assert.deepEqual(
    lp.patches().map((p) => p.objects[1]!.patched),
    [false, false],
  );
  lp.moduleGoing(mod); // again: nothing to do, no throw
  lp.moduleGoing({ name: 'm', state: 'live', symbols: { lookup: () => [] } }); // wrong state: ignored
});

test('R10.5: a module loading during a transition keeps per-task views; its post_patch waits', () => {
  const { w, lp, a } = basic();
  const calls: string[] = [];
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: () => 0 }] },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: impl('p', 'x') }], callbacks: recorder(calls) },
    ],
  });
  const mod = w.module('m', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  assert.deepEqual(calls, ['pre_patch:m']);
  assert.equal(s.call(x), 'original x');
  assert.equal(w.init.call(x), 'p:x');
  s.enter(x); // s now holds an old-version frame of x too
  s.stack.splice(0, 1); // leaves a
  w.tick(1000);
  assert.equal(lp.sysfs.read('p/transition'), '1\n'); // x blocks now
  s.leave();
  w.settle();
  assert.deepEqual(calls, ['pre_patch:m', 'post_patch:m']);
});

test('R11.1/R11.2: a patch module is in use while its patch exists; freeing removes the directory (disabled, replaced, failed)', () => {
  const { w, lp } = basic();
  const freed: string[] = [];
  lp.subscribe((e) => {
    if (e.type === 'patch-freed') freed.push(`${e.patch}:${e.reason}:${e.forced}`);
  });
  w.loadPatch(patchOf('p', ['a']));
  assert.throws(() => w.unloadPatch('p'), /in use/);
  w.disablePatch('p');
  w.unloadPatch('p');
  w.loadPatch(patchOf('q', ['a']));
  w.loadPatch(patchOf('r', ['b'], { replace: true }));
  assert.throws(() => lp.enablePatch(patchOf('bad', ['zzz'])));
  assert.deepEqual(freed, ['p:disabled:false', 'q:replaced:false']); // a failed init never existed
  assert.throws(() => lp.enablePatch(patchOf('bad2', ['a'], { callbacks: { prePatch: () => -1 } })));
  assert.deepEqual(freed.at(-1), 'bad2:failed:false');
  assert.deepEqual(lp.sysfs.list(''), ['r']);
});

test('R11.3: a forced patch can never be unloaded, even after it is freed', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  w.loadPatch(patchOf('p', ['a']), { wait: false });
  lp.force('p');
  w.settle();
  s.leave();
  s.enter(a);
  w.disablePatch('p', { wait: false });
  assert.equal(lp.patch('p')!.forced, false); // forcing a plain patching transition marks nobody
  lp.force('p'); // forcing an unpatching one marks the patch
  w.settle();
  assert.deepEqual(lp.sysfs.list(''), []);
  assert.deepEqual(lp.forcedPatches(), ['p']);
  assert.throws(() => w.unloadPatch('p'), /in use/);
});
