import { Router } from 'express';
import { z } from 'zod';
import { MEETING_ID, RecordMeetingSchema } from '../../core/meetings/meeting.js';
import type { MeetingService } from '../../reports/meeting-service.js';
import { actorOf, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const ListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** 分析研判会 records: `POST /api/meetings` (follow-ups become ledger items), `GET /api/meetings`, `GET /api/meetings/:id`. */
export function meetingRoutes(deps: { meetings: MeetingService }): Router {
  const router = Router();
  router.post('/meetings', requirePermission('meetings.write'), async (req, res) => {
    const body = parseBody(RecordMeetingSchema, req.body);
    res.status(201).json({ meeting: await deps.meetings.record(body, actorOf(req), req.requestId) });
  });
  router.get('/meetings', requirePermission('reports.read'), async (req, res) => {
    const { limit } = parseBody(ListQuerySchema, req.query);
    res.json({ meetings: await deps.meetings.list(limit) });
  });
  router.get('/meetings/:id', requirePermission('reports.read'), async (req, res) => {
    res.json({ meeting: await deps.meetings.get(String(req.params.id)) });
  });
  return router;
}

export const meetingRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/meetings', tag: 'reports', summary: '记录分析研判会（后续事项转为整改台账；留痕）', body: RecordMeetingSchema, responses: { '201': '已记录' } },
  { method: 'get', path: '/meetings', tag: 'reports', summary: '分析研判会记录（新在前）', query: ListQuerySchema },
  { method: 'get', path: '/meetings/:id', tag: 'reports', summary: '一次分析研判会记录', params: z.object({ id: z.string().regex(MEETING_ID) }) },
];
