#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's ESM loader, so a fresh
// `npm install` is all a checkout needs: no build step, never a stale build.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
