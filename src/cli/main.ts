#!/usr/bin/env node
// Placeholder entry until the CLI lands; replaced by the server/CLI work.
process.stdout.write('gatepass\n');
