import { Router } from 'express';
import { z } from 'zod';
import { RecordMeetingSchema } from '../../core/meetings/meeting.js';
import type { MeetingService } from '../../reports/meeting-service.js';
import { actorOf, requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';

/** 分析研判会 records: `POST /api/meetings` (follow-ups become ledger items), `GET /api/meetings`, `GET /api/meetings/:id`. */
export function meetingRoutes(deps: { meetings: MeetingService }): Router {
  const router = Router();
  router.post('/meetings', requirePermission('meetings.write'), async (req, res) => {
    const body = parseBody(RecordMeetingSchema, req.body);
    res.status(201).json({ meeting: await deps.meetings.record(body, actorOf(req), req.requestId) });
  });
  router.get('/meetings', requirePermission('reports.read'), async (req, res) => {
    const { limit } = parseBody(z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }), req.query);
    res.json({ meetings: await deps.meetings.list(limit) });
  });
  router.get('/meetings/:id', requirePermission('reports.read'), async (req, res) => {
    res.json({ meeting: await deps.meetings.get(String(req.params.id)) });
  });
  return router;
}
