/** config/checklists.yaml: named lists of steps, each with an optional live check. */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { z } from "zod";
import { formatPath } from "../config/load.ts";
import { errorLine } from "../core/one-line.ts";

export const DEFAULT_CHECKLISTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../config/checklists.yaml");

const CHECKS = ["upstream-merged", "chart-published", "pin-bumped", "deploy-green", "site-healthy", "test-launch"] as const;
const stepSchema = z
  .strictObject({
    text: z.string().min(1),
    check: z.enum(CHECKS).optional(),
    site: z.string().min(1).optional(),
    jobs: z
      .string()
      .refine((s) => {
        try {
          new RegExp(s, "i");
          return true;
        } catch {
          return false;
        }
      }, "expected a regular expression")
      .optional(),
    chart: z.string().min(1).optional(),
  })
  .refine((s) => !(s.check === "site-healthy" || s.check === "test-launch") || s.site !== undefined, {
    message: "site-healthy and test-launch need a site",
    path: ["site"],
  });

const fileSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a checklist name: lower-case letters, digits, '-'"),
  z.strictObject({ title: z.string().min(1).optional(), steps: z.array(stepSchema).min(1) }),
);

export type Checklists = z.infer<typeof fileSchema>;
export type ChecklistStep = z.infer<typeof stepSchema>;

export class ChecklistsError extends Error {}

/** Reads and validates a checklists file; the error names the file, the key path and what was expected. */
export async function loadChecklists(file: string): Promise<Checklists> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ChecklistsError(`cannot read the checklists file ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new ChecklistsError(`${file} is not valid YAML (${errorLine(e)})`);
  }
  const r = fileSchema.safeParse(doc ?? {});
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new ChecklistsError(`${file}: ${formatPath(first.path)}: ${first.message}`);
  }
  return r.data;
}
