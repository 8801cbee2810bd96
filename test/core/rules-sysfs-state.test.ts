// R12: the sysfs tree (attributes, values, write errors, names) — in the
// spirit of test-sysfs.sh — and R14's state API beyond the selftests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot } from '../support/sim.ts';
import { basic, patchOf } from '../support/fixtures.ts';
import { kstrtobool } from '../../src/core/index.ts';

test('selftest test-sysfs: sysfs test and object/patched (R12.1, R12.3, R12.7)', () => {
  const { w, lp } = basic();
  w.loadPatch(patchOf('test_klp_livepatch', ['a']));
  assert.equal(lp.sysfs.read('test_klp_livepatch/enabled'), '1\n');
  assert.equal(lp.sysfs.read('/sys/kernel/livepatch/test_klp_livepatch/transition'), '0\n');
  assert.equal(lp.sysfs.read('test_klp_livepatch/vmlinux/patched'), '1\n');
  assert.throws(() => lp.sysfs.read('test_klp_livepatch/force'), { code: 'EACCES' }); // --w-------
  w.disablePatch('test_klp_livepatch');
  w.loadPatch({ name: 'test_klp_callbacks_demo', objects: [{ name: 'test_klp_callbacks_mod', funcs: [] }] });
  const patched = 'test_klp_callbacks_demo/test_klp_callbacks_mod/patched';
  assert.equal(lp.sysfs.read(patched), '0\n');
  const mod = w.module('test_klp_callbacks_mod');
  w.load(mod);
  assert.equal(lp.sysfs.read(patched), '1\n');
  w.unload(mod);
  assert.equal(lp.sysfs.read(patched), '0\n');
});

test('R12.1: enabled reads 1 during and after an enable, 0 during a disable', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  assert.equal(lp.sysfs.read('p/enabled'), '1\n');
  s.leave();
  w.settle();
  s.enter(a);
  lp.disable('p');
  assert.equal(lp.sysfs.read('p/enabled'), '0\n');
  assert.equal(lp.sysfs.read('p/transition'), '1\n');
});

test('R12.2: enabled writes — kstrtobool, same value EINVAL, reverse, disable, EBUSY', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p', ['b']));
  const before = snapshot(w);
  for (const bad of ['', 'x', '2', 'maybe', 'o', 'oz'])
    assert.throws(() => lp.sysfs.write('p/enabled', bad), { code: 'EINVAL' });
  for (const same of ['1', 'y', 'Y', 'yes', 't', 'true', 'on', 'ON', '1\n', '10'])
    assert.throws(() => lp.sysfs.write('p/enabled', same), { code: 'EINVAL', message: /already enabled/ });
  assert.deepEqual(snapshot(w), before);
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('q', ['a']));
  assert.throws(() => lp.sysfs.write('p/enabled', 'off'), { code: 'EBUSY' });
  assert.equal(lp.sysfs.write('q/enabled', '0\n'), 2); // reverse; returns the byte count
  assert.equal(lp.sysfs.read('q/enabled'), '0\n');
  s.leave();
  w.settle();
  assert.equal(lp.sysfs.write('p/enabled', 'n'), 1);
  assert.deepEqual(lp.sysfs.list(''), []);
});

test("R12.2: kstrtobool accepts exactly the kernel's spellings", () => {
  assert.deepEqual(['1', 'y', 'Y', 't', 'T', 'on', 'On', 'oN', 'yes', '1x'].map(kstrtobool), Array(10).fill(true));
  assert.deepEqual(['0', 'n', 'N', 'f', 'F', 'off', 'OFF', 'no', 'false'].map(kstrtobool), Array(9).fill(false));
  assert.deepEqual(['', ' 1', 'o', 'ok', '2', 'enable'].map(kstrtobool), Array(6).fill(null));
});

test('R12.3: transition reads 1 for the patch in transition only', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p', ['b']));
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('q', ['a']));
  assert.deepEqual([lp.sysfs.read('p/transition'), lp.sysfs.read('q/transition')], ['0\n', '1\n']);
  assert.throws(() => lp.sysfs.write('q/transition', '0'), { code: 'EACCES' });
});

test('R12.4: force — false is a no-op, true needs the patch in transition, garbage is EINVAL, reading is EACCES', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p', ['b']));
  const before = snapshot(w);
  assert.equal(lp.sysfs.write('p/force', '0'), 1);
  assert.throws(() => lp.sysfs.write('p/force', '1'), { code: 'EINVAL', message: /not in transition/ });
  assert.throws(() => lp.sysfs.write('p/force', 'x'), { code: 'EINVAL' });
  assert.deepEqual(snapshot(w), before);
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('q', ['a']));
  assert.throws(() => lp.sysfs.write('p/force', '1'), { code: 'EINVAL' });
  lp.sysfs.write('q/force', '1');
  assert.equal(s.patchState, 1);
});

test("R12.5: replace reads the patch's replace flag", () => {
  const { lp } = basic();
  lp.enablePatch(patchOf('p', ['a']));
  lp.enablePatch(patchOf('r', ['b'], { replace: true }));
  assert.equal(lp.sysfs.read('r/replace'), '1\n');
  lp.disable('r');
  lp.enablePatch(patchOf('p', ['a']));
  assert.equal(lp.sysfs.read('p/replace'), '0\n');
  assert.throws(() => lp.sysfs.write('p/replace', '1'), { code: 'EACCES' });
});

test('R12.6: stack_order after patches come and go', () => {
  const { lp } = basic();
  const order = () => lp.sysfs.list('').map((n) => `${n}=${lp.sysfs.read(`${n}/stack_order`).trim()}`);
  lp.enablePatch(patchOf('p1', ['a']));
  lp.enablePatch(patchOf('p2', ['b']));
  lp.enablePatch(patchOf('p3', ['a']));
  assert.deepEqual(order(), ['p1=1', 'p2=2', 'p3=3']);
  lp.disable('p1');
  assert.deepEqual(order(), ['p2=1', 'p3=2']);
  lp.enablePatch(patchOf('p1', ['c']));
  assert.deepEqual(order(), ['p2=1', 'p3=2', 'p1=3']);
  lp.enablePatch(patchOf('r', ['d'], { replace: true }));
  assert.deepEqual(order(), ['r=1']);
  assert.throws(() => lp.sysfs.write('r/stack_order', '2'), { code: 'EACCES' });
});

test('R12.7/R12.8: object and func directories, with "/" written as "!"; func directories are empty', () => {
  const { w, lp } = basic();
  const mod = w.module('express/lib/router/index.js', true);
  mod.define('Router.prototype.handle');
  mod.define('createApp/<anonymous>@2');
  w.load(mod, { log: false });
  lp.enablePatch({
    name: 'fix',
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: () => 0 }] },
      {
        name: 'express/lib/router/index.js',
        funcs: [
          { oldName: 'Router.prototype.handle', newFunc: () => 0 },
          { oldName: 'createApp/<anonymous>@2', newFunc: () => 0 },
        ],
      },
      { name: 'src/absent.ts', funcs: [] },
    ],
  });
  assert.deepEqual(lp.sysfs.list('fix'), [
    'enabled',
    'transition',
    'force',
    'replace',
    'stack_order',
    'vmlinux',
    'express!lib!router!index.js',
    'src!absent.ts',
  ]);
  assert.deepEqual(lp.sysfs.list('fix/express!lib!router!index.js'), [
    'patched',
    'Router.prototype.handle,1',
    'createApp!<anonymous>@2,1',
  ]);
  assert.deepEqual(lp.sysfs.list('fix/express!lib!router!index.js/createApp!<anonymous>@2,1'), []);
  assert.equal(lp.sysfs.read('fix/src!absent.ts/patched'), '0\n');
  assert.throws(() => lp.sysfs.read('fix/vmlinux/a,1/anything'), { code: 'ENOENT' });
  assert.throws(() => lp.sysfs.read('fix/vmlinux/a,1'), { code: 'EISDIR' });
  assert.throws(() => lp.sysfs.list('fix/enabled'), { code: 'ENOTDIR' });
  assert.throws(() => lp.sysfs.read('fix/enabled/x'), { code: 'ENOTDIR' });
  assert.throws(() => lp.sysfs.read('nope/enabled'), { code: 'ENOENT' });
  assert.throws(() => lp.sysfs.write('fix', '1'), { code: 'EISDIR' });
  assert.throws(() => lp.sysfs.write('fix/vmlinux/patched', '0'), { code: 'EACCES' });
  assert.equal(lp.sysfs.exists('/sys/kernel/livepatch/fix/vmlinux/a,1'), true);
  assert.equal(lp.sysfs.exists('fix/vmlinux/b,1'), false);
});

test("R12.9: a task's patch_state is -1 outside a transition, else 0 or 1", () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  assert.equal(s.patchState, -1);
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  assert.deepEqual([s.patchState, w.init.patchState], [0, 1]);
  assert.deepEqual(
    lp.transitionStatus()!.pending.map((t) => [t.name, t.patchState, t.blocking.map((b) => b.function)]),
    [['s', 0, ['a']]],
  );
  s.leave();
  w.settle();
  assert.deepEqual([s.patchState, w.init.patchState], [-1, -1]);
});

test("R14.1/R14.2: states are per patch, looked up by id; data is the author's to change", () => {
  const { lp } = basic();
  lp.enablePatch({ name: 'p', states: [{ id: 7, version: 1, data: 'x' }], objects: [{ name: null, funcs: [] }] });
  const s = lp.getState('p', 7)!;
  assert.deepEqual({ ...s }, { id: 7, version: 1, data: 'x' });
  s.data = { changed: true };
  assert.deepEqual(lp.getState('p', 7)!.data, { changed: true });
  assert.equal(lp.getState('p', 8), null);
  assert.equal(lp.getState('nope', 7), null);
  assert.throws(() => lp.enablePatch({ name: 'q', states: [{ id: 0, version: 1 }], objects: [] }), {
    errno: -22,
    message: /positive integer/,
  });
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'q',
        states: [
          { id: 1, version: 1 },
          { id: 1, version: 2 },
        ],
        objects: [],
      }),
    { errno: -22, message: /listed twice/ },
  );
});

test("R14.2: getState answers from the patch's own states after the patch is freed, as klp_get_state does", () => {
  // klp_get_state(patch, id) walks patch->states, which lives as long as the
  // livepatch module, not only while the patch is in klp_patches.
  const { w, lp } = basic();
  const def = (name: string, data: unknown, replace = false) => ({
    name,
    replace,
    states: [{ id: 7, version: 1, data }],
    objects: [{ name: null, funcs: [] }],
  });
  lp.enablePatch(def('p', 'one'));
  const s = lp.getState('p', 7)!;
  s.data = 'changed';
  lp.disable('p'); // freed at once: no task is in a patched function
  assert.deepEqual(lp.sysfs.list(''), []);
  assert.equal(lp.getState('p', 7), s); // the very object, with the author's change
  assert.equal(lp.getState('p', 7)!.data, 'changed');
  assert.equal(lp.getState('p', 8), null);
  // Replaced patches too.
  lp.enablePatch(def('old', 'old'));
  lp.enablePatch(def('cumulative', 'new', true));
  assert.deepEqual(lp.sysfs.list(''), ['cumulative']);
  assert.equal(lp.getState('old', 7)!.data, 'old');
  // A failed enable of that name leaves the earlier answer; a new patch of
  // that name answers for itself, and after it is freed, its states do.
  const before = snapshot(w);
  assert.throws(() =>
    lp.enablePatch({
      ...def('p', 'failed'),
      objects: [{ name: null, funcs: [{ oldName: 'nope', newFunc: () => 0 }] }],
    }),
  );
  assert.deepEqual(snapshot(w), before);
  assert.equal(lp.getState('p', 7), s);
  lp.enablePatch(def('p', 'two'));
  assert.equal(lp.getState('p', 7)!.data, 'two');
  lp.disable('p');
  assert.equal(lp.getState('p', 7)!.data, 'two');
  assert.equal(lp.getState('never', 7), null);
});

test('R14.3: getPrevState works only during a transition and returns the newest older match', () => {
  const { w, lp, a } = basic();
  lp.enablePatch({ name: 'p1', states: [{ id: 1, version: 1, data: 'one' }], objects: [{ name: null, funcs: [] }] });
  lp.enablePatch({ name: 'p2', states: [{ id: 1, version: 2, data: 'two' }], objects: [{ name: null, funcs: [] }] });
  const warnings: string[] = [];
  lp.subscribe((e) => {
    if (e.type === 'warning') warnings.push(e.message);
  });
  assert.equal(lp.getPrevState(1), null);
  assert.equal(warnings.length, 1);
  const s = w.spawn('s');
  s.enter(a);
  let inPostUnpatch: unknown = 'unset';
  lp.enablePatch({
    name: 'p3',
    states: [{ id: 1, version: 3 }],
    objects: [
      {
        name: null,
        funcs: [{ oldName: 'a', newFunc: () => 0 }],
        callbacks: {
          postUnpatch: () => {
            inPostUnpatch = lp.getPrevState(1)?.data;
          },
        },
      },
    ],
  });
  assert.equal(lp.getPrevState(1)!.data, 'two');
  assert.equal(lp.getPrevState(2), null);
  lp.disable('p3'); // reverse: post_unpatch can tell "reverted" (prev exists)
  s.leave();
  w.settle();
  assert.equal(inPostUnpatch, 'two');
});

test('R14.4: compatibility — lower version fails; a cumulative patch must carry every state; others need not', () => {
  const { w, lp } = basic();
  const def = (name: string, states: { id: number; version: number }[], replace = false) => ({
    name,
    replace,
    states,
    objects: [{ name: null, funcs: [] }],
  });
  lp.enablePatch(
    def('base', [
      { id: 1, version: 2 },
      { id: 2, version: 1 },
    ]),
  );
  const before = snapshot(w);
  w.lp.log.clear();
  assert.throws(() => lp.enablePatch(def('lower', [{ id: 1, version: 1 }])), { code: 'EINVAL' });
  assert.throws(() => lp.enablePatch(def('cumulative-missing', [{ id: 1, version: 2 }], true)), { code: 'EINVAL' });
  assert.deepEqual(w.lines(), [
    'livepatch: Livepatch patch (lower) is not compatible with the already installed livepatches.',
    'livepatch: Livepatch patch (cumulative-missing) is not compatible with the already installed livepatches.',
  ]);
  assert.deepEqual(snapshot(w), before);
  lp.enablePatch(def('other', [{ id: 3, version: 1 }])); // non-cumulative: may ignore states
  lp.enablePatch(def('same', [{ id: 1, version: 2 }])); // same version is fine
  lp.enablePatch(
    def(
      'all',
      [
        { id: 1, version: 5 },
        { id: 2, version: 1 },
        { id: 3, version: 1 },
      ],
      true,
    ),
  );
  assert.deepEqual(lp.sysfs.list(''), ['all']);
});
