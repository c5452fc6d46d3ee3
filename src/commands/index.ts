import type { CommandSpec } from "../core/command.ts";
import type { Services } from "../services.ts";
import { bump } from "./bump.ts";
import { check } from "./check.ts";
import { checklist } from "./checklist.ts";
import { help } from "./help.ts";
import { retry } from "./retry.ts";
import { sha } from "./sha.ts";
import { status } from "./status.ts";
import { unwatch, watch, watching } from "./watch.ts";
import { whoami } from "./whoami.ts";
import { why } from "./why.ts";
import { yes } from "./yes.ts";

/** Every command the bot has, in the order `help` lists them. */
export const commands: readonly CommandSpec<Services>[] = [
  bump,
  check,
  checklist,
  help,
  retry,
  sha,
  status,
  unwatch,
  watch,
  watching,
  whoami,
  why,
  yes,
];
