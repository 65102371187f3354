#!/usr/bin/env node
// Entry point for `npx anytime`: the toolkit is TypeScript run through tsx, so no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
