import { z } from 'zod';
import { AlertLevelSchema } from '../rules/rule-pack.js';

export const AlertStatusSchema = z.enum(['new', 'acknowledged', 'handling', 'responded', 'closed', 'false_positive']);
export type AlertStatus = z.infer<typeof AlertStatusSchema>;

/** Why an alert fired: the matched terms with their offsets in the post they were found in. */
export const AlertHitSchema = z.object({
  postId: z.string(),
  term: z.string(),
  packId: z.string(),
  category: z.string(),
  level: AlertLevelSchema,
  start: z.number().int(),
  end: z.number().int(),
  field: z.enum(['title', 'text']),
  suggestion: z.string().optional(),
});
export type AlertHit = z.infer<typeof AlertHitSchema>;

export const AlertSchema = z.object({
  id: z.string(),
  packId: z.string(),
  category: z.string(),
  level: AlertLevelSchema,
  status: AlertStatusSchema,
  title: z.string(),
  sourceId: z.string(),
  postIds: z.array(z.string()).min(1),
  terms: z.array(z.string()),
  hits: z.array(AlertHitSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Alert = z.infer<typeof AlertSchema>;

export const LEVEL_NAMES: Record<1 | 2 | 3 | 4, string> = { 1: '一级（红）', 2: '二级（橙）', 3: '三级（黄）', 4: '四级（蓝）' };
