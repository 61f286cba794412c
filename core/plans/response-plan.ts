import { z } from 'zod';
import type { PlanChecklist } from '../alerts/alert.js';
import type { AlertLevel } from '../rules/rule-pack.js';

const Level = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);

export const PlanStepTemplateSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  /** 核实情况, 报告领导, 发布回应, 跟踪研判, 总结评估 … */
  title: z.string().min(1),
  /** Chain role (duty, section_chief, leader, first_responsible) or a section name that owns the step. */
  role: z.string().min(1),
  /** Deadline, in seconds after the plan is triggered. */
  deadlineSeconds: z.number().positive(),
  evidenceRequired: z.boolean().default(false),
});

/** 应对预案: ordered steps bound to rule categories and levels. */
export const PlanTemplateSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    name: z.string().min(1),
    /** Rule categories this plan is for; empty = any. */
    categories: z.array(z.string()).default([]),
    levels: z.array(Level).min(1),
    steps: z.array(PlanStepTemplateSchema).min(1),
  })
  .superRefine((plan, ctx) => {
    const ids = new Set<string>();
    plan.steps.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `step id "${s.id}" is used twice` });
      ids.add(s.id);
    });
  });
export type PlanTemplate = z.infer<typeof PlanTemplateSchema>;

export const PlansFileSchema = z.object({ plans: z.array(PlanTemplateSchema) }).superRefine((file, ctx) => {
  const ids = new Set<string>();
  file.plans.forEach((p, i) => {
    if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'id'], message: `plan id "${p.id}" is used twice` });
    ids.add(p.id);
  });
});

/** Templates that apply to an alert, most specific (bound to its category) first. */
export function plansFor(templates: readonly PlanTemplate[], category: string, level: AlertLevel): PlanTemplate[] {
  return templates
    .filter((t) => t.levels.includes(level) && (t.categories.length === 0 || t.categories.includes(category)))
    .sort((a, b) => b.categories.length - a.categories.length);
}

/** Makes the checklist: each step gets its deadline and, when known, an assignee for its role. */
export function instantiatePlan(template: PlanTemplate, now: Date, actor: string, assigneeFor: (role: string) => string | undefined): PlanChecklist {
  return {
    templateId: template.id,
    name: template.name,
    triggeredAt: now.toISOString(),
    triggeredBy: actor,
    steps: template.steps.map((s) => {
      const assignee = assigneeFor(s.role);
      return {
        id: s.id,
        title: s.title,
        role: s.role,
        ...(assignee ? { assignee } : {}),
        dueAt: new Date(now.getTime() + s.deadlineSeconds * 1000).toISOString(),
        evidenceRequired: s.evidenceRequired,
        evidence: [],
      };
    }),
  };
}
