import { z } from 'zod';

/**
 * What every collector hands to the pipeline, whatever the position's kind.
 * A collector fills what the page or API gives; the pipeline derives everything else
 * (text normalisation, dedupe key, classification).
 */
/**
 * An http(s) URL: what the dashboard links to ("查看原文"), so a pushed `javascript:` or `data:`
 * URL must never get that far.
 */
export const WebUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const ItemKindSchema = z.enum(['article', 'comment', 'message', 'reply', 'weibo', 'attachment']);
export type ItemKind = z.infer<typeof ItemKindSchema>;

export const CollectedItemSchema = z.object({
  /** The position (阵地) this item was collected from, as configured in `config/sources.yaml`. */
  sourceId: z.string().min(1),
  kind: ItemKindSchema,
  /** Canonical URL of the item (detail page, message anchor, API permalink). */
  url: WebUrlSchema,
  /** Stable id the platform gives the item, when it has one (message number, msg_data_id, weibo mid). */
  platformId: z.string().min(1).optional(),
  /** Id (platformId or url) of the item this one answers or sits under: a comment's article. */
  parentRef: z.string().min(1).optional(),
  title: z.string().optional(),
  /** Plain text as extracted; HTML has already been stripped by the extractor. */
  text: z.string(),
  author: z.string().optional(),
  /** ISO 8601 with offset; absent when the page shows no date (which itself matters for inspection). */
  publishedAt: z.string().datetime({ offset: true }).optional(),
  /** For 留言: the unit's reply, if any. */
  reply: z
    .object({
      text: z.string(),
      at: z.string().datetime({ offset: true }).optional(),
      by: z.string().optional(),
    })
    .optional(),
  collectedAt: z.string().datetime({ offset: true }),
  /**
   * What the collector saw since its last run: `new`, `edited` (its content hash changed; the old
   * one is `previousHash`) or `deleted` (gone from the position: the page answers 404/410, or the
   * comment is no longer under its article). A deleted item carries no text of its own.
   */
  change: z.enum(['new', 'edited', 'deleted']).optional(),
  /** The collector's hash of title, text, reply and attachments' text. */
  contentHash: z.string().min(8).max(128).optional(),
  previousHash: z.string().min(8).max(128).optional(),
  /** Text of the files linked from the item (PDF, DOC/DOCX, XLS/XLSX): where ID and phone numbers leak. */
  attachments: z
    .array(
      z.object({
        url: WebUrlSchema,
        name: z.string(),
        text: z.string().optional(),
        /** Why there is no text (too large, unreadable, unsupported type). */
        error: z.string().optional(),
        contentHash: z.string().optional(),
      }),
    )
    .optional(),
  /** Evidence (证据保存): the raw page as collected, gzip, keyed by the SHA-256 of its bytes. */
  snapshot: z.object({ sha256: z.string().length(64), path: z.string() }).optional(),
  /** A screenshot of a browser-rendered page, when one was asked for. */
  screenshot: z.object({ sha256: z.string().length(64), path: z.string() }).optional(),
});
export type CollectedItem = z.infer<typeof CollectedItemSchema>;

/** What an extractor returns: the crawl run adds `sourceId` and `collectedAt`. */
export type ExtractedItem = Omit<CollectedItem, 'sourceId' | 'collectedAt'>;
