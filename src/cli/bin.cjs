#!/usr/bin/env node
// The `upgrades` bin: runs the TypeScript CLI through tsx (a project dependency), like `npm run upgrades`.
require('tsx/cjs');
const { runCli } = require('./main.ts');
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
