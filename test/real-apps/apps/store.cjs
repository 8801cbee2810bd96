'use strict';
/**
 * The data every REST app serves: users kept in memory behind async methods
 * (each awaits a turn of the event loop, as a database client would), and
 * the helpers the apps share. CommonJS with `exports.x =`, imported by name
 * from the ES-module apps.
 */

const tick = () => new Promise((resolve) => setImmediate(resolve));

class NotFound extends Error {
  constructor(what) {
    super(`${what} not found`);
    this.name = 'NotFound';
    this.status = 404;
  }
}

class UserStore {
  #users = new Map([
    [1, { id: 1, name: 'Ada', email: 'ada@example.com' }],
    [2, { id: 2, name: 'Alan', email: 'alan@example.com' }],
  ]);
  #next = 3;

  async get(id) {
    await tick();
    const user = this.#users.get(Number(id));
    if (!user) throw new NotFound(`user ${id}`);
    return { ...user };
  }

  async list() {
    await tick();
    return [...this.#users.values()].map((u) => ({ ...u }));
  }

  async create({ name, email } = {}) {
    await tick();
    if (typeof name !== 'string' || name === '') {
      const e = new Error('name is required');
      e.status = 422;
      throw e;
    }
    const user = { id: this.#next++, name, email: email ?? null };
    this.#users.set(user.id, user);
    return { ...user };
  }

  async remove(id) {
    await this.get(id);
    this.#users.delete(Number(id));
  }
}

/** Fails a few awaits and calls deep, so the stack has frames of async and plain functions. */
async function explode() {
  await tick();
  return await inner();
  async function inner() {
    await tick();
    return check({ ok: false });
  }
  function check(state) {
    if (!state.ok) throw new TypeError('the handler failed');
    return state;
  }
}

/**
 * An error's stack as a program would log it: frames with their function names
 * and line numbers (the loader keeps both; columns move without source maps,
 * docs/loader.md, so they are left out).
 */
function frames(err) {
  return String(err.stack)
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/:(\d+):\d+(\)?)$/, ':$1$2'));
}

exports.UserStore = UserStore;
exports.NotFound = NotFound;
exports.explode = explode;
exports.frames = frames;
exports.tick = tick;
