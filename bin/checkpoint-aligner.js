#!/usr/bin/env node
// Command-line entry point installed as `checkpoint-aligner`; the bundle is built by `npm run build`.
require('../dist/cli.js');
