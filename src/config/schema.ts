import cron from "node-cron";
import { z } from "zod";

/** Keys whose values are secrets: never printed, logged or said in chat. */
export const SECRET_KEYS = new Set([
  "token",
  "accessToken",
  "botToken",
  "appToken",
  "signingSecret",
  "password",
  "secret",
  "webhookSecret",
]);

const repo = z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name, e.g. jupyterhub/binderhub");
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL");
const userRef = z.string().regex(/^[a-z][a-z0-9-]*:\S+$/, "expected platform:userId, e.g. slack:U0123ABC");
const userRefList = z.array(userRef);
const roleList = z.array(z.string().min(1));
const roomRefList = z.array(z.string().regex(/^[a-z][a-z0-9-]*:\S+$/, "expected platform:roomId, e.g. slack:C0123ABC"));

const chartSchema = z.strictObject({
  /** Chart name as it appears in the chart index and in the deploy repo's dependencies. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a chart name: lower-case letters, digits, '-'"),
  /** GitHub repository that builds the chart (for PRs). */
  github: repo,
  /** Where to clone it from: a URL or a local path. */
  git: z.string().min(1),
  /**
   * Folder holding chartpress.yaml (or the build script before it), relative to the repository root.
   * Optional: found at each commit by itself, as the folder (root or one level down) that holds the
   * chart's `<name>/Chart.yaml`.
   */
  chartpressDir: z.string().min(1).optional(),
  /** The old name, which said the wrong thing: rejected with what to write instead. */
  chartDir: z
    .unknown()
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      ctx.addIssue({
        code: "custom",
        message: `'chartDir' is gone: binderbot finds chartpress.yaml (or the build.py before it) by itself, next to the chart's <name>/Chart.yaml folder. Delete the line; to fix the folder anyway, write chartpressDir: ${JSON.stringify(v)}`,
      });
    })
    .optional(),
  /** The published Helm chart repository index. */
  index: z.string().min(1),
  /** Default branch; discovered from the mirror when absent. */
  branch: z.string().min(1).optional(),
});

export const slackSchema = z.strictObject({
  enabled: z.boolean().default(true),
  mode: z.enum(["socket", "http"]).default("socket"),
  botToken: z.string().min(1),
  appToken: z.string().min(1).optional(),
  signingSecret: z.string().min(1).optional(),
  apiUrl: httpUrl.optional(),
});

const matrixSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Client-server API base URL of the bot account's homeserver. */
    homeserver: httpUrl,
    userId: z.string().regex(/^@[^:\s]+:\S+$/, "expected a Matrix user id, e.g. @binderbot:matrix.org"),
    /** Preferred: a long-lived access token of the bot account. */
    accessToken: z.string().min(1).optional(),
    /** Alternative to accessToken: password login at each start (a new device each time). */
    password: z.string().min(1).optional(),
    /** Rooms joined at start: aliases (resolved through the directory) or room ids. */
    rooms: z
      .array(z.string().regex(/^[#!][^:\s]+:\S+$/, "expected a room alias #room:server or a room id !id:server"))
      .default([]),
    /** Accept invitations to rooms not listed in `rooms`. */
    autojoin: z.boolean().default(false),
  })
  .refine((m) => m.accessToken !== undefined || m.password !== undefined, {
    message: "set accessToken (or password) for the bot account",
    path: ["accessToken"],
  });

const gitterSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Gitter is Matrix: its client-server API is served from gitter.ems.host (not gitter.im). */
  homeserver: httpUrl.default("https://gitter.ems.host"),
  /** The bot account's Matrix id; asked from the homeserver (whoami) when absent. */
  userId: z
    .string()
    .regex(/^@[^:\s]+:\S+$/, "expected a Matrix user id")
    .optional(),
  /** Long-lived Matrix access token of the bot account (old Gitter API tokens no longer work). */
  accessToken: z.string().min(1),
  /** `gitter.im/org/room` (mapped to #org_room:gitter.im), or a Matrix alias / room id. */
  rooms: z
    .array(
      z
        .string()
        .regex(
          /^(?:[#!][^:\s]+:\S+|(?:https?:\/\/)?(?:gitter\.im\/)?[\w.-]+(?:\/[\w.-]+)*)$/,
          "expected gitter.im/org/room, #alias:server or !roomid:server",
        ),
    )
    .default([]),
  /** Accept invitations to rooms not listed in `rooms`. */
  autojoin: z.boolean().default(false),
});

/** A BinderHub site the deploy reaches (`status`, `check`, checklists). */
const siteSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a site name: lower-case letters, digits, '-'"),
  /** The BinderHub's base URL (its /health and /build/… live under it). */
  url: httpUrl,
  /** Whether `check` launches the test repository here. */
  launch: z.boolean().default(true),
});

const cronExpr = z
  .string()
  .refine(
    (s) => s === "" || cron.validate(s),
    'expected a cron expression such as "*/2 * * * *" (seconds allowed), or "" for none',
  );
/** "90s", "30m", "12h", "1d", or a number of seconds. */
const duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/, 'expected a duration such as "30s", "10m", "12h" or "1d"'),
]);

export const notifyTopics = ["charts", "deploys", "behind"] as const;

const notifySchema = z.strictObject({
  /** "<platform>:<room>" → what it is told unasked; `!binder watch|unwatch` change it at run time. */
  rooms: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*:\S+$/, "expected platform:room, e.g. slack:C0123ABC or shell:local"),
      z.array(z.enum(notifyTopics)),
    )
    .default({}),
  schedules: z
    .strictObject({
      /** Chart index poll (conditional GET). */
      index: cronExpr.default("*/2 * * * *"),
      /** Deploy workflow runs. */
      deploys: cronExpr.default("*/5 * * * *"),
      /** "N versions behind", once a day. */
      behind: cronExpr.default("0 9 * * *"),
    })
    .default({ index: "*/2 * * * *", deploys: "*/5 * * * *", behind: "0 9 * * *" }),
  /** How long a `sha`/`why` waiter is kept before it expires unsent. */
  waiterTtl: duration.default("1d"),
  /** Tries per notification and room before it is given up (logged at error, counted in /metrics). */
  attempts: z.number().int().min(1).max(50).default(8),
  /** First retry delay; doubles each try (capped at 10 min). */
  retryDelay: duration.default("5s"),
  /** Schedule lease on the store (one replica runs each schedule); renewed at a third of it. */
  lease: duration.default("30s"),
});

export const configSchema = z.strictObject({
  /** What a command starts with. */
  prefix: z.string().min(1).regex(/^\S+$/, "expected one word without spaces").default("!binder"),
  /** Names the bot answers to when addressed: "@binderbot …", "binderbot: …". */
  names: z.array(z.string().min(1)).default(["binderbot"]),
  /** Git mirrors and the sqlite store live here. */
  dataDir: z.string().min(1).default("./data"),
  /** sqlite (a file under dataDir) | memory | redis://host:port */
  store: z
    .string()
    .regex(/^(sqlite|memory|rediss?:\/\/\S+)$/, "expected sqlite, memory, or a redis:// URL")
    .default("sqlite"),
  log: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
      format: z.enum(["auto", "json", "pretty"]).default("auto"),
    })
    .default({ level: "info", format: "auto" }),
  github: z
    .strictObject({
      apiUrl: httpUrl.default("https://api.github.com"),
      token: z.string().min(1).optional(),
      /** Secret of the GitHub webhook (POST /github/webhook); unset: webhooks are refused. */
      webhookSecret: z.string().min(1).optional(),
    })
    .default({ apiUrl: "https://api.github.com" }),
  charts: z.array(chartSchema).min(1, "expected at least one chart"),
  /** The git mirrors of the charts' repositories (under dataDir/mirrors). */
  mirrors: z
    .strictObject({
      /** node-cron expression for the background fetch of every mirror in use; "" turns it off. */
      fetchCron: z
        .string()
        .refine((s) => s === "" || cron.validate(s), 'expected a cron expression such as "*/10 * * * *", or "" for none')
        .default("*/10 * * * *"),
      /** A question about "the latest" (no ref, a branch) fetches first when the mirror is older than this. */
      maxAgeSeconds: z.number().int().min(0).default(60),
      /** Limit for one clone or fetch. */
      fetchTimeoutSeconds: z.number().int().positive().default(600),
    })
    .default({ fetchCron: "*/10 * * * *", maxAgeSeconds: 60, fetchTimeoutSeconds: 600 }),
  deploy: z.strictObject({
    github: repo,
    /** Where the chart version is pinned. */
    chartFile: z.string().min(1).default("mybinder/Chart.yaml"),
    branch: z.string().min(1).default("main"),
    ci: z.enum(["github-actions", "travis"]).default("github-actions"),
    workflow: z.string().min(1).default("cd.yml"),
    /** Travis CI API base, for ci: travis. */
    travisApiUrl: httpUrl.default("https://api.travis-ci.com"),
    /** Travis CI extras, for ci: travis: an API token (restarts need one) and the web UI base for links. */
    travis: z
      .strictObject({
        token: z.string().min(1).optional(),
        /** Web UI base; derived from travisApiUrl when absent (api.travis-ci.com → app.travis-ci.com). */
        webUrl: httpUrl.optional(),
      })
      .optional(),
    /** At most this many bytes of a job log are read, from the end when a log is bigger. */
    logMaxBytes: z
      .number()
      .int()
      .min(1024)
      .default(8 * 1024 * 1024),
    /** After `bump`: how long the PR is followed (merge, then its deploy run) to tell the thread how the deploy ended. */
    bumpFollowHours: z.number().positive().default(24),
    /** How often the followed bump PR and its deploy run are looked at. */
    bumpPollSeconds: z.number().positive().default(60),
    /** Verdicts kept per repository for streaks and `why --stats`. */
    historyLength: z.number().int().min(10).max(100_000).default(500),
  }),
  /** `retry`: budgets, confirmation window, how the new attempt is followed (docs/retry.md). */
  retry: z
    .strictObject({
      /** Retries of one run at most. */
      perRun: z.number().int().min(0).default(2),
      /** Retries per hour in the deploy repository at most. */
      perHour: z.number().int().min(0).default(6),
      /** Runs older than this are not retried (GitHub Actions refuses after 30 days). */
      maxAgeDays: z.number().positive().default(30),
      /** How long `--force` waits for `!binder yes`. */
      confirmSeconds: z.number().int().min(1).default(120),
      /** How often the new attempt is looked at, seconds. */
      pollSeconds: z.number().positive().default(30),
      /** How long the new attempt is followed before the bot gives up saying how it ended. */
      followMinutes: z.number().positive().default(120),
    })
    .default({ perRun: 2, perHour: 6, maxAgeDays: 30, confirmSeconds: 120, pollSeconds: 30, followMinutes: 120 }),
  /** BinderHub sites of the deploy (`status`, `check`, checklists). */
  sites: z.array(siteSchema).default([]),
  /** The post-deploy check (`check`): the repository launched through each site's build API. */
  check: z
    .strictObject({
      /** GitHub repository launched as the test (BinderHub spec gh/<repo>/<ref>). */
      repo: repo.default("willingc/ThinkDSP"),
      ref: z.string().min(1).regex(/^\S+$/, "expected a branch, tag or commit").default("HEAD"),
      /** A launch that has not reached `ready` by then is reported as failed with its last phases. */
      timeoutSeconds: z.number().positive().default(600),
      /** Limit for one /health request. */
      healthTimeoutSeconds: z.number().positive().default(15),
    })
    .default({ repo: "willingc/ThinkDSP", ref: "HEAD", timeoutSeconds: 600, healthTimeoutSeconds: 15 }),
  /** The `checklist` command's lists (a YAML file); unset: the shipped config/checklists.yaml (mybinder.org). */
  checklists: z.string().min(1).optional(),
  /** Per-user flood control. max: 0 turns it off. */
  flood: z
    .strictObject({ max: z.number().int().min(0).default(5), perSeconds: z.number().positive().default(10) })
    .default({ max: 5, perSeconds: 10 }),
  access: z
    .strictObject({
      /** Role name → immutable user refs (`slack:U…`, `matrix:@a:b`, `shell:local`, `platform:*`). */
      roles: z.record(z.string(), userRefList).default({}),
      /** Per command: the roles that may run it instead of the spec's (a list), or `{ roles, rooms }`. */
      commands: z
        .record(
          z.string(),
          z.union([
            roleList.transform((roles) => ({ roles })),
            z.strictObject({ roles: roleList.optional(), rooms: roomRefList.optional() }),
          ]),
        )
        .default({}),
      /** Grant a role to chat users linked to GitHub logins that are members of an org (or a team of it). */
      github: z
        .strictObject({
          org: z.string().regex(/^[\w.-]+$/, "expected a GitHub organisation, e.g. jupyterhub"),
          /** Team slug; without it, membership of the org counts. */
          team: z
            .string()
            .regex(/^[\w.-]+$/, "expected a team slug, e.g. mybinder-operators")
            .optional(),
          role: z.string().default("operators"),
          /** Chat user ref → GitHub login. */
          users: z.record(userRef, z.string().regex(/^[A-Za-z0-9-]{1,39}$/, "expected a GitHub login")).default({}),
          /** How long a membership answer is trusted, seconds. */
          cacheSeconds: z.number().int().min(0).default(600),
        })
        .optional(),
    })
    .default({ roles: {}, commands: {} }),
  http: z
    .strictObject({ port: z.number().int().min(0).max(65535).default(0), host: z.string().default("0.0.0.0") })
    .default({ port: 0, host: "0.0.0.0" }),
  /**
   * On SIGTERM, answers in progress get this long to finish; then the process exits and they are
   * answered after the restart. Below Kubernetes' 30 s grace period.
   */
  shutdownGraceSeconds: z.number().min(0).max(25).default(8),
  adapters: z
    .strictObject({
      shell: z.strictObject({ enabled: z.boolean().default(false) }).optional(),
      slack: slackSchema.optional(),
      matrix: matrixSchema.optional(),
      gitter: gitterSchema.optional(),
    })
    .default({}),
  /** Unasked messages: chart published, deploy finished, versions behind (docs/notify.md). */
  notify: notifySchema.default(notifySchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type ChartConfig = z.infer<typeof chartSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
