import { z } from 'zod';

/**
 * The numbers of the website inspection (国办秘函〔2019〕19号, 政府网站与政务新媒体检查指标): any one
 * 单项否决 item fails the whole site. Defaults are the rules' numbers; `warn*` values are ours, so
 * staff hear about an item before the inspector's line is crossed. Every number can be set in
 * `config/qianshao.yaml` under `inspection:`.
 */
export const InspectionPolicySchema = z.object({
  /** 站点无法访问: probed for a week, ≥ 20 times a day; failures (incl. ≥ 15 s) ≥ 5 % fail. */
  availability: z
    .object({
      windowDays: z.coerce.number().int().min(1).max(8).default(7),
      minProbesPerDay: z.coerce.number().int().min(1).default(20),
      timeoutSeconds: z.coerce.number().positive().max(120).default(15),
      /** Failure share at or above which the item fails (超过(含) 5%). */
      failShare: z.coerce.number().min(0).max(1).default(0.05),
      /** Failure share at or above which staff are warned. */
      warnShare: z.coerce.number().min(0).max(1).default(0.03),
    })
    .default({ windowDays: 7, minProbesPerDay: 20, timeoutSeconds: 15, failShare: 0.05, warnShare: 0.03 }),
  /** 首页不更新: no dated item on the home page or any column for 2 weeks; an undated item does not count. */
  homePage: z
    .object({
      staleDays: z.coerce.number().positive().default(14),
      warnDays: z.coerce.number().positive().default(10),
    })
    .default({ staleDays: 14, warnDays: 10 }),
  /** 栏目不更新: stale news columns (2 weeks) and notice/policy columns (6 months), long-stale and blank columns. */
  columns: z
    .object({
      newsStaleDays: z.coerce.number().positive().default(14),
      newsWarnDays: z.coerce.number().positive().default(10),
      noticeStaleDays: z.coerce.number().positive().default(183),
      noticeWarnDays: z.coerce.number().positive().default(150),
      /** Stale columns (news + notice/policy) at or above which the item fails (超过(含) 5 个). */
      staleFailCount: z.coerce.number().int().min(1).default(5),
      /** Stale and soon-stale columns together at or above which staff are warned. */
      staleWarnCount: z.coerce.number().int().min(1).default(3),
      /** "应更新但长期未更新": the rules give no length; a year is our reading. */
      longStaleDays: z.coerce.number().positive().default(365),
      longStaleFailCount: z.coerce.number().int().min(1).default(10),
      longStaleWarnCount: z.coerce.number().int().min(1).default(7),
      blankFailCount: z.coerce.number().int().min(1).default(5),
      blankWarnCount: z.coerce.number().int().min(1).default(1),
    })
    .default({ newsStaleDays: 14, newsWarnDays: 10, noticeStaleDays: 183, noticeWarnDays: 150, staleFailCount: 5, staleWarnCount: 3, longStaleDays: 365, longStaleFailCount: 10, longStaleWarnCount: 7, blankFailCount: 5, blankWarnCount: 1 }),
  /** 互动回应差: any valid 留言 of the last year unanswered for more than 3 months. */
  interaction: z
    .object({
      unansweredDays: z.coerce.number().positive().default(90),
      /** About two and a half months. */
      warnDays: z.coerce.number().positive().default(75),
      lookbackDays: z.coerce.number().positive().default(365),
    })
    .default({ unansweredDays: 90, warnDays: 75, lookbackDays: 365 }),
  /** 严重表述错误: lexicon hits on the unit's own pages (articles, attachments) in the period. */
  misstatements: z
    .object({
      periodDays: z.coerce.number().positive().default(365),
      /** Categories of which one hit fails (出现严重表述错误). */
      failCategories: z.array(z.string().min(1)).default(['严重表述错误']),
      /** Typo categories (错敏词: names of the state, organs, leaders): more than `typoFailAbove` fail. */
      typoCategories: z.array(z.string().min(1)).default(['错敏词']),
      typoFailAbove: z.coerce.number().int().min(0).default(3),
    })
    .default({ periodDays: 365, failCategories: ['严重表述错误'], typoCategories: ['错敏词'], typoFailAbove: 3 }),
});
export type InspectionPolicy = z.infer<typeof InspectionPolicySchema>;
export const DEFAULT_INSPECTION_POLICY: InspectionPolicy = InspectionPolicySchema.parse({});

/** The probes the availability prober runs (crawler role): 24 a day by default, above the rules' 20. */
export const ProberConfigSchema = z.object({
  enabled: z.boolean().default(true),
  everyMinutes: z.coerce.number().positive().max(1440).default(60),
  /** Probe records kept per position (the window plus a day). */
  keepDays: z.coerce.number().int().min(1).max(60).default(8),
});
export type ProberConfig = z.infer<typeof ProberConfigSchema>;

/** The watch (worker role) that re-runs self-inspection and tells the position's section chiefs when an item starts to warn or fail. */
export const WatchConfigSchema = z.object({
  enabled: z.boolean().default(true),
  everyMinutes: z.coerce.number().positive().max(1440).default(60),
  /** Notification channel ids the notices go through. */
  channels: z.array(z.string().min(1)).default(['inapp']),
});
export type WatchConfig = z.infer<typeof WatchConfigSchema>;

/** `inspection:` in config/qianshao.yaml: the policy, its prober and its watch. */
export const InspectionConfigSchema = InspectionPolicySchema.extend({
  prober: ProberConfigSchema.default(ProberConfigSchema.parse({})),
  watch: WatchConfigSchema.default(WatchConfigSchema.parse({})),
});
export type InspectionConfig = z.infer<typeof InspectionConfigSchema>;
export const DEFAULT_INSPECTION_CONFIG: InspectionConfig = InspectionConfigSchema.parse({});
