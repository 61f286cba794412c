import { z } from 'zod';

/** 来源: an alert (预警), a self-inspection (自查), superior inspection feedback (督查反馈), an inspection tour (巡视反馈). */
export const LedgerSourceSchema = z.enum(['alert', 'self_inspection', 'superior_feedback', 'inspection_tour']);
export type LedgerSource = z.infer<typeof LedgerSourceSchema>;

/** open → in_progress → awaiting_verification → closed (销号); closed → reopened → in_progress. */
export const LedgerStatusSchema = z.enum(['open', 'in_progress', 'awaiting_verification', 'closed', 'reopened']);
export type LedgerStatus = z.infer<typeof LedgerStatusSchema>;

/** 佐证材料: a reference to a stored file (never the file itself) or a text note. */
export const EvidenceInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().trim().min(1).max(5000) }),
  z.object({
    kind: z.literal('file'),
    /** Where the file is kept (a document system id, a share path, an attachment URL). */
    ref: z.string().trim().min(1).max(1000),
    name: z.string().trim().min(1).max(200).optional(),
  }),
]);
export type EvidenceInput = z.infer<typeof EvidenceInputSchema>;
export type Evidence = EvidenceInput & { addedBy: string; addedAt: string };

export interface LedgerHistoryEntry {
  at: string;
  by: string;
  action: string;
  from?: LedgerStatus;
  to?: LedgerStatus;
  note?: string;
}

/** Reminder steps already sent for an item (each at most once). */
export const ReminderStepSchema = z.enum(['due_soon', 'overdue', 'overdue_escalated']);
export type ReminderStep = z.infer<typeof ReminderStepSchema>;

export interface LedgerItem {
  id: string;
  /** Bumped by every change; a caller may send `expectedVersion` to act only on what it saw. */
  version: number;
  source: LedgerSource;
  /** The alert this problem came from (source `alert`). */
  alertId?: string;
  /** The feedback document or inspection round, e.g. 督查通报〔2026〕3号. */
  sourceRef?: string;
  problem: string;
  measures: string;
  /** Username of the responsible person (责任人). */
  responsible: string;
  /** 责任科室 */
  section?: string;
  /** 整改时限 (ISO). */
  deadline: string;
  status: LedgerStatus;
  evidence: Evidence[];
  overdue: boolean;
  reminders: ReminderStep[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  verifiedBy?: string;
  verifiedAt?: string;
  verificationNote?: string;
  closedAt?: string;
  history: LedgerHistoryEntry[];
}

export const CreateLedgerItemSchema = z
  .object({
    source: LedgerSourceSchema,
    alertId: z.string().min(1).max(200).optional(),
    sourceRef: z.string().trim().min(1).max(200).optional(),
    problem: z.string().trim().min(1).max(5000),
    measures: z.string().trim().min(1).max(5000),
    responsible: z.string().min(1).max(64),
    section: z.string().trim().min(1).max(80).optional(),
    deadline: z.iso.datetime({ offset: true }),
    evidence: z.array(EvidenceInputSchema).max(50).default([]),
  })
  .strict()
  .refine((v) => v.source !== 'alert' || v.alertId !== undefined, { message: 'an item from an alert needs its alertId', path: ['alertId'] });
export type CreateLedgerItem = z.infer<typeof CreateLedgerItemSchema>;

export const UpdateLedgerItemSchema = z
  .object({
    expectedVersion: z.number().int().min(1).optional(),
    sourceRef: z.string().trim().min(1).max(200).optional(),
    problem: z.string().trim().min(1).max(5000).optional(),
    measures: z.string().trim().min(1).max(5000).optional(),
    responsible: z.string().min(1).max(64).optional(),
    section: z.string().trim().min(1).max(80).optional(),
    deadline: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).some((k) => k !== 'expectedVersion'), { message: 'nothing to change' });
export type UpdateLedgerItem = z.infer<typeof UpdateLedgerItemSchema>;

export function isOverdue(item: Pick<LedgerItem, 'status' | 'deadline'>, now: Date): boolean {
  return item.status !== 'closed' && new Date(item.deadline).getTime() <= now.getTime();
}
