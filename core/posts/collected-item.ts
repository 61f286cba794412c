import { z } from 'zod';

/**
 * What every collector hands to the pipeline, whatever the position's kind.
 * A collector fills what the page or API gives; the pipeline derives everything else
 * (text normalisation, dedupe key, classification).
 */
export const ItemKindSchema = z.enum(['article', 'comment', 'message', 'reply', 'weibo', 'attachment']);
export type ItemKind = z.infer<typeof ItemKindSchema>;

export const CollectedItemSchema = z.object({
  /** The position (阵地) this item was collected from, as configured in `config/sources.yaml`. */
  sourceId: z.string().min(1),
  kind: ItemKindSchema,
  /** Canonical URL of the item (detail page, message anchor, API permalink). */
  url: z.string().url(),
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
});
export type CollectedItem = z.infer<typeof CollectedItemSchema>;

/** What an extractor returns: the crawl run adds `sourceId` and `collectedAt`. */
export type ExtractedItem = Omit<CollectedItem, 'sourceId' | 'collectedAt'>;
