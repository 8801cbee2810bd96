/**
 * `node --import livepatch/register app.js`: arm every function the program
 * loads from here on, and start the runtime that patches them.
 */

import { startRuntime } from './runtime/runtime.ts';

startRuntime();
