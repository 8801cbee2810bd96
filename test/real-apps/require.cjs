'use strict';
// `require()` called from a CommonJS module, as a CommonJS program calls it (probe.mjs step 3).
module.exports = function load(specifier) {
  return require(specifier);
};
