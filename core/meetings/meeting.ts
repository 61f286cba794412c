import { z } from 'zod';

/** A follow-up task decided at the meeting: it becomes a rectification ledger item linked to the meeting. */
export const FollowUpSchema = z.object({
  problem: z.string().trim().min(1).max(5000),
  measures: z.string().trim().min(1).max(5000),
  /** Username of the responsible person (责任人). */
  responsible: z.string().min(1).max(64),
  deadline: z.iso.datetime({ offset: true }),
});

/** A meeting record's id: `yp-` and the day it was recorded (UTC) and six hex digits. */
export const MEETING_ID = /^yp-\d{8}-[0-9a-f]{6}$/;

/** 分析研判会: when, who, what was judged, what follows. */
export const RecordMeetingSchema = z.object({
  heldAt: z.iso.datetime({ offset: true }),
  /** The report the meeting discussed, e.g. 2026-Q3. */
  period: z.string().min(4).max(40).optional(),
  attendees: z.array(z.string().trim().min(1).max(64)).min(1).max(100),
  topics: z.array(z.string().trim().min(1).max(500)).min(1).max(50),
  conclusions: z.string().trim().min(1).max(20_000),
  followUps: z.array(FollowUpSchema).max(50).default([]),
});
export type RecordMeeting = z.infer<typeof RecordMeetingSchema>;

export interface Meeting extends Omit<RecordMeeting, 'followUps'> {
  id: string;
  followUps: (z.infer<typeof FollowUpSchema> & { ledgerId: string })[];
  recordedBy: string;
  recordedAt: string;
}
