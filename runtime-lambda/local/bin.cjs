#!/usr/bin/env node
// The `statefun` executable: runs the TypeScript command through tsx, as the project does.
require('tsx/cjs');
require('./statefun.ts')
  .runStatefun(process.argv.slice(2))
  .then((code) => process.exit(code));
